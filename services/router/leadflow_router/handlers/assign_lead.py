"""The ``lead.qualified`` consumer: decide, record, emit ``lead.assigned`` or
``lead.routing_failed`` — once per lead.

Delivery: commit after handling (servicekit consumer). The inbox row, the assignment or
work item and the stored output commit in one transaction; a redelivered message
re-publishes the stored event (same deterministic id) and decides nothing again. Two
router replicas racing on the same message serialize on the inbox row; on top, the
unique ``(lead_id, sequence)`` constraint and the one-open-work-item-per-lead index make
a second outcome for a lead impossible even from a different input event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts import Envelope, LeadQualified, derived_event_id
from leadflow_contracts.topics import LEAD_ASSIGNED, LEAD_QUALIFIED, LEAD_ROUTING_FAILED
from servicekit.consumer import Delivery
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing
from servicekit.inbox import Inbox
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.records import lead_is_routed
from leadflow_router.domain.ids import work_item_id_for
from leadflow_router.handlers import events
from leadflow_router.handlers.decide import decide
from leadflow_router.handlers.outcome import RoutingDeps, record_decision
from leadflow_router.metrics import RouterMetrics


@dataclass
class AssignLead:
    inbox: Inbox
    deps: RoutingDeps
    metrics: RouterMetrics
    clock: Callable[[], datetime]

    async def __call__(self, envelope: Envelope[Any], delivery: Delivery) -> None:
        qualified: LeadQualified = envelope.payload
        lead = qualified.lead
        if envelope.lead_id != lead.lead_id or envelope.tenant_id != lead.tenant_id:
            raise InvalidMessage("envelope and lead disagree on lead_id or tenant_id")
        outcome = ""

        async def apply(session: AsyncSession) -> list[Outgoing]:
            nonlocal outcome
            if await lead_is_routed(session, lead.lead_id):
                return []
            at = self.clock()
            decision = await decide(session, lead, qualified.score.score, at=at, lock=True)
            spec = LEAD_ASSIGNED if decision.assigned else LEAD_ROUTING_FAILED
            recorded = await record_decision(
                session,
                self.deps,
                decision,
                lead,
                qualified.score.score,
                at=at,
                sequence=0,
                correlation_id=envelope.correlation_id,
                event_id=derived_event_id(envelope.event_id, spec.event_type),
                item_id=work_item_id_for(envelope.event_id),
            )
            producer = self.deps.producer
            if recorded.assignment is not None:
                outcome = "assigned"
                payload = events.assigned(recorded.assignment)
                return [events.caused(LEAD_ASSIGNED, payload, producer=producer, cause=envelope)]
            if recorded.work_item is not None:
                outcome = "routing_failed"
                failed = events.routing_failed(recorded.work_item)
                return [
                    events.caused(LEAD_ROUTING_FAILED, failed, producer=producer, cause=envelope)
                ]
            return []

        await self.inbox.handle(envelope.event_id, LEAD_QUALIFIED.name, apply)
        if outcome:
            self.metrics.decided("pipeline", outcome)
        if outcome == "assigned":
            self.metrics.assigned_after((self.clock() - lead.received_at).total_seconds())
