"""Store every record of every ``<topic>.dlq`` once.

The records are not envelopes (they are the failed originals), so ``parse`` keeps the
record itself and the key is its DLQ position. The rules are servicekit's
``ConsumerEngine``'s: offsets are committed only after the batch's rows are committed,
so a database outage pauses the consumer (never loss). Storing is idempotent (unique
DLQ position and unique original position per consumer group), so a redelivery stores
nothing new. Nothing about a record can make storing it fail for good — unreadable
values and headers are stored as they are — and a dead letter of a dead letter would
have nowhere to go: any failure is waited out (``dead_letter_on_record_fault=False``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from leadflow_contracts import REGISTRY
from servicekit.engine import ConsumerEngine, Done
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

from leadflow_dlq.adapters import store
from leadflow_dlq.domain.capture import capture
from leadflow_dlq.metrics import DlqMetrics
from leadflow_dlq.settings import Settings

log = get_logger(__name__)

Position: TypeAlias = tuple[str, int, int]
Record: TypeAlias = ConsumerRecord[Any, Any]


def position(record: Record) -> Position:
    return (record.topic, record.partition, record.offset)


class CaptureDeadLetters(ConsumerEngine[Record, Done]):
    def __init__(self, runtime: Runtime, metrics: DlqMetrics, settings: Settings) -> None:
        prefix = settings.topic_prefix

        async def store_batch(records: list[Record]) -> Mapping[Position, Done]:
            captured = [
                capture(
                    dlq_topic=r.topic,
                    partition=r.partition,
                    offset=r.offset,
                    key=r.key,
                    value=r.value,
                    headers=list(r.headers or ()),
                    topic_prefix=prefix,
                )
                for r in records
            ]
            async with runtime.sessions() as session, session.begin():
                stored = [await store.insert_new(session, new) for new in captured]
            for new, is_new in zip(captured, stored, strict=True):
                if is_new:
                    metrics.received.labels(*new.metric_labels).inc()
                    log.warning(
                        "dead letter stored",
                        dead_letter_id=str(new.id),
                        original_topic=new.original_topic,
                        exception_class=new.exception_class,
                        tenant_id=new.tenant_id,
                    )
            if any(stored):
                await metrics.refresh_depth(runtime.sessions)
            return {
                position(r): Done("ok" if is_new else "duplicate")
                for r, is_new in zip(records, stored, strict=True)
            }

        super().__init__(
            runtime,
            [spec.dlq for spec in REGISTRY],
            settings.consumer_group,
            store_batch,
            parse=lambda record: record,
            key=position,
            trace_records=False,
            dead_letter_on_record_fault=False,
        )

    def subscribe(self, settings: Settings) -> None:
        """One subscriber over every DLQ topic of the registry (register before start)."""
        self.register(max_records=settings.batch_max_records, timeout_ms=settings.batch_timeout_ms)
