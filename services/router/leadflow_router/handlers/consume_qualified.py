"""The ``lead.qualified`` consumer: batches of records, one transaction per batch.

servicekit's ``ReliableConsumer`` handles one record per transaction; with the team row
locked per lead that caps the router at a few dozen leads/s. This consumer subscribes in
batches (like audit) and routes each batch with ``route_batch``. Delivery semantics are
those of ``servicekit.consumer``:

* offsets are committed (``AckPolicy.NACK_ON_ERROR``) only after the handler returned,
  i.e. after the batch committed and its events were acknowledged by the broker; if the
  handler raises (e.g. the broker is unreachable) the batch comes again, and the inbox
  turns it into re-publications of the stored events (same ids);
* a record that is not a valid ``lead.qualified`` envelope goes to the DLQ at once and
  the rest of the batch proceeds;
* a failing batch is retried with backoff up to ``retry_max_attempts``; then every record
  is handled on its own (its own transaction, its own retries), so only the records that
  still fail are dead-lettered and the consumer keeps going. One-by-one in batch order
  decides exactly what the batch would have.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from leadflow_contracts import Envelope
from leadflow_contracts.topics import LEAD_QUALIFIED
from opentelemetry.trace import Span
from servicekit.consumer import parse_envelope
from servicekit.errors import InvalidMessage
from servicekit.logging import bind_event_context, get_logger
from servicekit.runtime import Runtime

from leadflow_router.handlers import lead_spans
from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.route_batch import Handled, route_batch
from leadflow_router.settings import Settings

log = get_logger(__name__)


@dataclass
class Item:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope[Any]
    span: Span


@dataclass
class Attempt:
    """``handled`` if it succeeded, else the last error and when the first attempt failed."""

    handled: dict[uuid.UUID, Handled] | None
    attempts: int
    error: BaseException = field(default_factory=lambda: RuntimeError("no error"))
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def parse(record: ConsumerRecord[Any, Any]) -> Envelope[Any]:
    envelope = parse_envelope(LEAD_QUALIFIED, record.value)
    lead = envelope.payload.lead
    if envelope.lead_id != lead.lead_id or envelope.tenant_id != lead.tenant_id:
        raise InvalidMessage("envelope and lead disagree on lead_id or tenant_id")
    return envelope


class QualifiedConsumer:
    def __init__(
        self, runtime: Runtime, deps: RoutingDeps, clock: Callable[[], datetime], group: str
    ) -> None:
        self._runtime = runtime
        self._deps = deps
        self._clock = clock
        self._group = group
        self._retry = runtime.retry_policy()
        self._tracer = runtime.tracer_provider.get_tracer("leadflow_router")

    async def handle_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        items: dict[uuid.UUID, Item] = {}  # first occurrence of each event id, in order
        for record in records:
            try:
                envelope = parse(record)
            except InvalidMessage as exc:
                await self._dead_letter(record, exc, 1, datetime.now(UTC))
                continue
            if envelope.event_id in items:
                self._count("duplicate")  # the same event twice in one batch: publish once
                continue
            span = lead_spans.start_lead_span(self._tracer, record, self._group)
            items[envelope.event_id] = Item(record, envelope, span)
        handled: dict[uuid.UUID, Handled] = {}
        try:
            handled = await self._handle(list(items.values()))
            await self._publish(items.values(), handled)
        except BaseException as exc:
            for item in items.values():
                lead_spans.end_lead_span(item.span, "failed", exc)
            raise
        for event_id, item in items.items():
            done = handled.get(event_id)
            lead_spans.end_lead_span(item.span, done.outcome if done else "dead_lettered")
            if done is not None:
                self._observe(item, done)

    async def _handle(self, items: list[Item]) -> dict[uuid.UUID, Handled]:
        if not items:
            return {}
        batch = await self._attempt(items)
        if batch.handled is not None:
            return batch.handled
        if len(items) == 1:
            await self._dead_letter(items[0].record, batch.error, batch.attempts, batch.failed_at)
            return {}
        log.warning("batch failed; handling its records one by one", records=len(items))
        handled: dict[uuid.UUID, Handled] = {}
        for item in items:  # in batch order: the decisions the batch would have made
            one = await self._attempt([item])
            if one.handled is not None:
                handled.update(one.handled)
            else:
                attempts = batch.attempts + one.attempts
                await self._dead_letter(item.record, one.error, attempts, batch.failed_at)
        return handled

    async def _attempt(self, items: list[Item]) -> Attempt:
        """Route ``items`` in one transaction, retried with backoff (not ``InvalidMessage``)."""
        envelopes = [i.envelope for i in items]
        failed_at: datetime | None = None
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                async with self._runtime.sessions() as session, session.begin():
                    handled = await route_batch(
                        session, self._deps, self._group, envelopes, self._clock
                    )
                return Attempt(handled, attempt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failed_at = failed_at or datetime.now(UTC)
                last = isinstance(exc, InvalidMessage) or attempt == self._retry.max_attempts
                log.warning(
                    "routing failed" if last else "routing failed, retrying",
                    records=len(items),
                    attempt=attempt,
                    error=f"{type(exc).__name__}: {str(exc)[:300]}",
                )
                if last:
                    return Attempt(None, attempt, exc, failed_at)
                metrics = self._runtime.metrics
                metrics.retries.labels(metrics.service, LEAD_QUALIFIED.name).inc()
                await asyncio.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns")

    async def _publish(self, items: Iterable[Item], handled: dict[uuid.UUID, Handled]) -> None:
        """Enqueue every output in batch order (each with its lead's span current, so it
        carries the lead's trace), then wait for the broker's acknowledgements."""
        prefix = self._runtime.settings.topic_prefix
        pending = []
        for item in items:
            done = handled.get(item.envelope.event_id)
            for out in done.outputs if done else ():
                with lead_spans.current(item.span):
                    pending.append(
                        await self._runtime.broker.publish(
                            out.value_bytes(),
                            prefix + out.topic,
                            key=out.key.encode(),
                            headers=dict(out.headers),
                            no_confirm=True,
                        )
                    )
        await asyncio.gather(*pending)

    def _observe(self, item: Item, done: Handled) -> None:
        lead = item.envelope.payload.lead
        with bind_event_context(
            correlation_id=item.envelope.correlation_id,
            tenant_id=lead.tenant_id,
            lead_id=lead.lead_id,
        ):
            log.debug("lead.qualified handled", outcome=done.outcome, offset=item.record.offset)
        self._count("duplicate" if done.outcome == "duplicate" else "ok")
        if done.outcome in ("assigned", "routing_failed"):
            self._deps.metrics.decided("pipeline", done.outcome)
        if done.assigned_after_s is not None:
            self._deps.metrics.assigned_after(done.assigned_after_s)

    def _count(self, outcome: str) -> None:
        metrics = self._runtime.metrics
        metrics.leads_processed.labels(metrics.service, outcome).inc()

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        exc: BaseException,
        attempts: int,
        first_failed_at: datetime,
    ) -> None:
        await self._runtime.dead_letters.publish(
            record,
            exc,
            consumer_group=self._group,
            attempts=attempts,
            first_failed_at=first_failed_at,
        )
        metrics = self._runtime.metrics
        self._count("dead_lettered")
        metrics.dlq_published.labels(metrics.service, LEAD_QUALIFIED.name, type(exc).__name__).inc()
        log.error(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
            error=f"{type(exc).__name__}: {str(exc)[:500]}",
        )

    def _record_lag(self, consumer: Any, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        last: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            last[key] = max(record.offset, last.get(key, -1))
        metrics = self._runtime.metrics
        for (topic, partition), offset in last.items():
            high = highwater(TopicPartition(topic, partition))
            if high is not None:
                metrics.consumer_lag.labels(metrics.service, topic, str(partition)).set(
                    max(0, high - offset - 1)
                )

    def register(self, settings: Settings) -> None:
        """Subscribe (before ``runtime.start``) in the router's consumer group."""

        async def consume_qualified(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            await self.handle_batch(records)
            self._record_lag(msg.consumer, records)

        self._runtime.broker.subscriber(
            settings.topic_prefix + LEAD_QUALIFIED.name,
            group_id=self._group,
            batch=True,
            max_records=settings.batch_max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        )(consume_qualified)
