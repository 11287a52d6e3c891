"""Audit's consumer: every domain topic, one group, appended batch by batch.

servicekit's ``runtime.consume`` handles one topic and one record at a time; the event
store wants the opposite (one advisory lock, one chain step and one commit per *batch*),
so audit subscribes to every topic of the registry with one batch subscriber.

Delivery semantics (at-least-once, same guarantees as ``servicekit.consumer``):

* offsets are committed (``AckPolicy.NACK_ON_ERROR``, acked after the handler returns)
  only once the batch is durably appended; if the handler raises, FastStream seeks each
  partition back to the batch's first record and the batch comes again;
* a record that is not a valid envelope for its topic goes to ``<topic>.dlq`` at once and
  the rest of the batch proceeds;
* a failing append (database down, deadlock, …) is retried with backoff up to
  ``retry_max_attempts``; then each record is appended on its own and only those that
  still fail are dead-lettered — the consumer never stops on a bad batch;
* redelivered events are absorbed by the unique ``event_id`` (see ``EventStore``);
* a batch is appended in ``occurred_at`` order, ties in pipeline (registry) order: the
  topics arrive independently, and events one decision stamps with the same instant
  (``lead.scored``, ``lead.qualified``) then take positions in the order they happened.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from leadflow_contracts import REGISTRY, TopicSpec
from servicekit.logging import error_text, get_logger
from servicekit.runtime import Runtime

from leadflow_audit.adapters.store import EventStore
from leadflow_audit.handlers.parse import Parsed, parse_record
from leadflow_audit.settings import Settings

log = get_logger(__name__)
GROUP_ID = "audit"
_RANK = {spec.event_type: rank for rank, spec in enumerate(REGISTRY)}


class AuditConsumer:
    def __init__(self, runtime: Runtime, store: EventStore) -> None:
        self._runtime = runtime
        self._store = store
        prefix = runtime.settings.topic_prefix
        self._specs: dict[str, TopicSpec] = {prefix + spec.name: spec for spec in REGISTRY}

    async def handle_batch(self, records: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        good: list[Parsed] = []
        for record in records:
            try:
                good.append(parse_record(self._specs[record.topic], record))
            except Exception as exc:  # InvalidMessage, or a topic we do not know
                await self._dead_letter(record, exc, 1, datetime.now(UTC))
        if not good:
            return
        good.sort(key=lambda p: (p.event.occurred_at, _RANK.get(p.event.event_type, len(_RANK))))
        first_failed_at = await self._append_with_retry(good)
        if first_failed_at is not None:
            await self._append_one_by_one(good, first_failed_at)

    async def _append_with_retry(self, batch: list[Parsed]) -> datetime | None:
        """Append with bounded retries; returns when it first failed if it never succeeded."""
        policy = self._runtime.retry_policy()
        first_failed_at: datetime | None = None
        for attempt in range(1, policy.max_attempts + 1):
            try:
                result = await self._store.append([p.event for p in batch])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                first_failed_at = first_failed_at or datetime.now(UTC)
                log.warning(
                    "audit append failed",
                    records=len(batch),
                    attempt=attempt,
                    error=error_text(exc, 300),
                )
                if attempt < policy.max_attempts:
                    self._count_retry()
                    await asyncio.sleep(policy.delay(attempt))
            else:
                self._count(result.appended, result.duplicates)
                return None
        return first_failed_at

    async def _append_one_by_one(self, batch: list[Parsed], first_failed_at: datetime) -> None:
        attempts = self._runtime.retry_policy().max_attempts
        for parsed in batch:
            try:
                result = await self._store.append([parsed.event])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._dead_letter(parsed.record, exc, attempts + 1, first_failed_at)
            else:
                self._count(result.appended, result.duplicates)

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
            consumer_group=GROUP_ID,
            attempts=attempts,
            first_failed_at=first_failed_at,
        )
        metrics = self._runtime.metrics
        metrics.leads_processed.labels(metrics.service, "dead_lettered").inc()
        spec = self._specs.get(record.topic)
        topic = spec.name if spec else record.topic
        metrics.dlq_published.labels(metrics.service, topic, type(exc).__name__).inc()
        log.error(
            "record dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error_text(exc),
        )

    def _count(self, appended: int, duplicates: int) -> None:
        metrics = self._runtime.metrics
        metrics.leads_processed.labels(metrics.service, "ok").inc(appended)
        metrics.leads_processed.labels(metrics.service, "duplicate").inc(duplicates)

    def _count_retry(self) -> None:
        metrics = self._runtime.metrics
        metrics.retries.labels(metrics.service, "*").inc()

    def _record_lag(self, consumer: Any, batch: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        """Records between each partition's high-water mark and the last one handled."""
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        last: dict[tuple[str, int], int] = {}
        for record in batch:
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
        """Subscribe (before ``runtime.start``) to every registry topic in group "audit"."""

        async def consume_events(msg: KafkaMessage) -> None:
            records = msg.raw_message
            batch = records if isinstance(records, tuple) else (records,)
            await self.handle_batch(batch)
            self._record_lag(msg.consumer, batch)

        self._runtime.broker.subscriber(
            *self._specs,
            group_id=GROUP_ID,
            batch=True,
            max_records=settings.audit_batch_max_records,
            batch_timeout_ms=settings.audit_batch_timeout_ms,
            fetch_min_bytes=settings.audit_fetch_min_bytes,
            fetch_max_wait_ms=settings.audit_fetch_max_wait_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        )(consume_events)
