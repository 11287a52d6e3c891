"""Store every record of every ``<topic>.dlq`` once.

The records are not envelopes (they are the failed originals), so this is not a
``runtime.consume`` consumer: it is a plain FastStream subscriber with the same
delivery rules — offsets are committed only after the row is committed
(``NACK_ON_ERROR``), so a database outage means redelivery, never loss. Storing is
idempotent (unique DLQ position and unique original position per consumer group), so a
redelivery stores nothing new. Nothing about the record can make this handler fail for
good: unreadable values and headers are stored as they are.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from leadflow_contracts import REGISTRY
from servicekit.logging import error_text, get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_dlq.adapters import store
from leadflow_dlq.domain.capture import capture
from leadflow_dlq.metrics import DlqMetrics
from leadflow_dlq.settings import Settings

log = get_logger(__name__)


class CaptureDeadLetter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        metrics: DlqMetrics,
        topic_prefix: str,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._prefix = topic_prefix

    async def __call__(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Returns True when the record was new."""
        new = capture(
            dlq_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=list(record.headers or ()),
            topic_prefix=self._prefix,
        )
        async with self._sessions() as session, session.begin():
            stored = await store.insert_new(session, new)
        if stored:
            self._metrics.received.labels(*new.metric_labels).inc()
            await self._metrics.refresh_depth(self._sessions)
            log.warning(
                "dead letter stored",
                dead_letter_id=str(new.id),
                original_topic=new.original_topic,
                exception_class=new.exception_class,
                tenant_id=new.tenant_id,
            )
        return stored


def dlq_topics(settings: Settings) -> list[str]:
    return [settings.topic_prefix + spec.dlq for spec in REGISTRY]


def subscribe(broker: KafkaBroker, settings: Settings, handler: CaptureDeadLetter) -> None:
    """One subscriber over every DLQ topic of the registry (register before start)."""

    async def capture_dead_letter(msg: KafkaMessage) -> None:
        record = msg.raw_message
        assert not isinstance(record, tuple)  # not a batch subscriber
        try:
            await handler(record)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Most likely the database is unreachable: wait a little before the nack
            # makes the record come back, instead of spinning.
            log.warning(
                "could not store dead letter; will retry",
                topic=record.topic,
                offset=record.offset,
                error=error_text(exc, 300),
            )
            await asyncio.sleep(settings.retry_max_delay_s)
            raise

    broker.subscriber(
        *dlq_topics(settings),
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )(capture_dead_letter)
