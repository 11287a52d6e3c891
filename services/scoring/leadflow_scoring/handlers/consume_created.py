"""The ``sales.lead.created`` consumer: batches of records, one transaction per batch.

One inbox transaction per record capped scoring at a few hundred leads/s, most of it
per-transaction overhead and re-validating the tenant's rule set for every lead;
``servicekit.batch.BatchConsumer`` hands ``score_batch`` whole batches instead. Delivery
(offsets committed only after the batch committed and every output was acknowledged),
retry, the one-by-one fallback, dead-lettering, per-lead spans (each lead's own
``traceparent``) and the per-lead debug log line are described there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import Envelope, Producer
from leadflow_contracts.topics import LEAD_CREATED
from servicekit.batch import BatchConsumer, BatchItem
from servicekit.consumer import parse_envelope
from servicekit.errors import InvalidMessage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_scoring.handlers.score_batch import Handled, score_batch
from leadflow_scoring.metrics import ScoringMetrics
from leadflow_scoring.settings import Settings


def parse(record: ConsumerRecord[Any, Any]) -> Envelope[Any]:
    envelope = parse_envelope(LEAD_CREATED, record.value)
    lead = envelope.payload.lead
    if envelope.lead_id != lead.lead_id or envelope.tenant_id != lead.tenant_id:
        raise InvalidMessage("the envelope's lead_id/tenant_id differ from the lead's")
    return envelope


class CreatedConsumer(BatchConsumer[Handled]):
    def __init__(
        self,
        runtime: Runtime,
        producer: Producer,
        metrics: ScoringMetrics,
        clock: Callable[[], datetime],
        group: str,
    ) -> None:
        async def handle(
            session: AsyncSession, envelopes: list[Envelope[Any]]
        ) -> Mapping[uuid.UUID, Handled]:
            return await score_batch(session, envelopes, producer, clock)

        def observe(item: BatchItem, done: Handled) -> None:
            if done.waited_s is not None:  # scored now, not a redelivery
                metrics.scored(qualified=done.outcome == "qualified", seconds=done.waited_s)

        super().__init__(runtime, LEAD_CREATED, group, handle, parse=parse, observe=observe)

    def subscribe(self, settings: Settings) -> None:
        """Subscribe (before ``runtime.start``) in scoring's consumer group."""
        self.register(max_records=settings.batch_max_records, timeout_ms=settings.batch_timeout_ms)
