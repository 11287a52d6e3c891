"""Reliable consumers: commit after handling, bounded retry, dead-letter, keep going.

Delivery semantics, for every consumer registered here:

* at-least-once: the subscriber uses ``AckPolicy.NACK_ON_ERROR`` with auto-commit off, so
  an offset is committed only after the handler returned or the record was durably
  dead-lettered. If even the dead-letter publish fails, the record is nacked (the
  consumer seeks back to it) and handled again: nothing is lost.
* ``InvalidMessage`` (including an envelope that does not validate) goes to
  ``<topic>.dlq`` at once; any other exception is retried with exponential backoff up to
  ``retry_max_attempts`` and then dead-lettered. The partition never stalls for good.
* handlers must be idempotent (see ``servicekit.inbox``): a redelivery is normal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from leadflow_contracts import Envelope, TopicSpec
from leadflow_contracts.versions import UnknownSchemaVersion, read_envelope
from pydantic import ValidationError

from servicekit.dlq import DeadLetterPublisher
from servicekit.errors import InvalidMessage
from servicekit.logging import bind_event_context, get_logger
from servicekit.metrics import ServiceMetrics

log = get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Backoff before attempt ``attempt + 1`` (attempt counts from 1)."""
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Delivery:
    """Where the message came from, for handlers that want to know."""

    topic: str
    partition: int
    offset: int
    attempt: int


Handler = Callable[[Envelope[Any], Delivery], Awaitable[None]]


def parse_envelope(spec: TopicSpec, value: bytes | None) -> Envelope[Any]:
    if value is None:
        raise InvalidMessage("record has no value (tombstone)")
    try:
        envelope = read_envelope(spec, value)
    except ValidationError as exc:
        raise InvalidMessage(f"not a valid {spec.event_type} envelope: {exc}") from exc
    except UnknownSchemaVersion as exc:
        raise InvalidMessage(str(exc)) from exc
    if envelope.event_type != spec.event_type:
        raise InvalidMessage(
            f"event_type {envelope.event_type!r} does not belong on {spec.name} "
            f"(expected {spec.event_type!r})"
        )
    return envelope


class ReliableConsumer:
    """Runs one handler for one topic in one consumer group (see module docstring)."""

    def __init__(
        self,
        spec: TopicSpec,
        group_id: str,
        handler: Handler,
        *,
        dead_letters: DeadLetterPublisher,
        metrics: ServiceMetrics,
        retry: RetryPolicy,
        topic_prefix: str = "",
    ) -> None:
        self.spec = spec
        self.group_id = group_id
        self.topic = topic_prefix + spec.name
        self._handler = handler
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._retry = retry

    async def handle_record(self, record: ConsumerRecord[Any, Any]) -> str:
        """Handle one record to completion; returns the outcome ("ok" or "dead_lettered")."""
        first_failed_at: datetime | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                envelope = parse_envelope(self.spec, record.value)
                with bind_event_context(
                    correlation_id=envelope.correlation_id,
                    tenant_id=envelope.tenant_id,
                    lead_id=envelope.lead_id,
                ):
                    delivery = Delivery(record.topic, record.partition, record.offset, attempt)
                    await self._handler(envelope, delivery)
                    # Debug only: one line per handled record, carrying the event context
                    # (a no-op at the default INFO level, so the hot path stays quiet).
                    log.debug(
                        "message handled",
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        event_id=str(envelope.event_id),
                        event_type=envelope.event_type,
                        attempt=attempt,
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                first_failed_at = first_failed_at or datetime.now(UTC)
                permanent = isinstance(exc, InvalidMessage)
                if permanent or attempt >= self._retry.max_attempts:
                    await self._dead_letter(record, exc, attempt, first_failed_at)
                    return "dead_lettered"
                self._metrics.retries.labels(self._metrics.service, self.spec.name).inc()
                log.warning(
                    "handler failed, retrying",
                    topic=record.topic,
                    offset=record.offset,
                    attempt=attempt,
                    error=f"{type(exc).__name__}: {exc}",
                )
                await asyncio.sleep(self._retry.delay(attempt))
            else:
                self._metrics.leads_processed.labels(self._metrics.service, "ok").inc()
                return "ok"

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        exc: BaseException,
        attempts: int,
        first_failed_at: datetime,
    ) -> None:
        await self._dead_letters.publish(
            record,
            exc,
            consumer_group=self.group_id,
            attempts=attempts,
            first_failed_at=first_failed_at,
        )
        self._metrics.leads_processed.labels(self._metrics.service, "dead_lettered").inc()
        self._metrics.dlq_published.labels(
            self._metrics.service, self.spec.name, type(exc).__name__
        ).inc()
        log.error(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
            error=f"{type(exc).__name__}: {str(exc)[:500]}",
        )

    def _record_lag(self, msg: Any, record: ConsumerRecord[Any, Any]) -> None:
        consumer = getattr(msg, "consumer", None)
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        from aiokafka import TopicPartition

        try:
            high = highwater(TopicPartition(record.topic, record.partition))
        except Exception:
            return
        if high is not None:
            self._metrics.consumer_lag.labels(
                self._metrics.service, record.topic, str(record.partition)
            ).set(max(0, high - record.offset - 1))

    def register(self, broker: KafkaBroker, **subscriber_options: Any) -> None:
        options: dict[str, Any] = {
            "group_id": self.group_id,
            "auto_offset_reset": "earliest",
            "ack_policy": AckPolicy.NACK_ON_ERROR,
        }
        options.update(subscriber_options)

        async def _consume(msg: KafkaMessage) -> None:
            record = msg.raw_message
            assert not isinstance(record, tuple)
            await self.handle_record(record)
            self._record_lag(msg, record)

        broker.subscriber(self.topic, **options)(_consume)
