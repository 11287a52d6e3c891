"""The ``lead.qualified`` consumer: batches of records, one transaction per batch.

With the team row locked per lead, one transaction per record caps the router at a few
dozen leads/s; ``servicekit.batch.BatchConsumer`` hands ``route_batch`` whole batches
instead (delivery, retry, one-by-one fallback, dead-lettering and per-lead tracing are
described there). ``route_batch`` decides a batch exactly as one-by-one routing in batch
order would, which the fallback relies on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import Envelope
from leadflow_contracts.topics import LEAD_QUALIFIED
from servicekit.batch import BatchConsumer, BatchItem
from servicekit.consumer import parse_envelope
from servicekit.errors import InvalidMessage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.route_batch import Handled, route_batch
from leadflow_router.settings import Settings


def parse(record: ConsumerRecord[Any, Any]) -> Envelope[Any]:
    envelope = parse_envelope(LEAD_QUALIFIED, record.value)
    lead = envelope.payload.lead
    if envelope.lead_id != lead.lead_id or envelope.tenant_id != lead.tenant_id:
        raise InvalidMessage("envelope and lead disagree on lead_id or tenant_id")
    return envelope


class QualifiedConsumer(BatchConsumer[Handled]):
    def __init__(
        self, runtime: Runtime, deps: RoutingDeps, clock: Callable[[], datetime], group: str
    ) -> None:
        async def handle(
            session: AsyncSession, envelopes: list[Envelope[Any]]
        ) -> Mapping[uuid.UUID, Handled]:
            return await route_batch(session, deps, envelopes, clock)

        def observe(item: BatchItem, done: Handled) -> None:
            if done.outcome in ("assigned", "routing_failed"):
                deps.metrics.decided("pipeline", done.outcome)
            if done.assigned_after_s is not None:
                deps.metrics.assigned_after(done.assigned_after_s)

        super().__init__(runtime, LEAD_QUALIFIED, group, handle, parse=parse, observe=observe)

    def subscribe(self, settings: Settings) -> None:
        """Subscribe (before ``runtime.start``) in the router's consumer group."""
        self.register(max_records=settings.batch_max_records, timeout_ms=settings.batch_timeout_ms)
