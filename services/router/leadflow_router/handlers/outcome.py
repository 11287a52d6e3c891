"""Recording a ``Decision``: an assignment when a rep was chosen, else a work item."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import Producer
from leadflow_contracts.lead import Lead
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.records import insert_assignment, insert_work_item
from leadflow_router.domain.ids import assignment_id_for
from leadflow_router.domain.model import Decision
from leadflow_router.domain.sla import sla_due_at
from leadflow_router.metrics import RouterMetrics


@dataclass(frozen=True)
class RoutingDeps:
    producer: Producer
    default_sla_minutes: int
    retry_backoff_s: float
    metrics: RouterMetrics


@dataclass(frozen=True)
class Recorded:
    """Exactly one of the two is set, unless the lead was already recorded (both None)."""

    assignment: dict[str, Any] | None = None
    work_item: dict[str, Any] | None = None


async def record_decision(
    session: AsyncSession,
    deps: RoutingDeps,
    decision: Decision,
    lead: Lead,
    score: int,
    *,
    at: datetime,
    sequence: int,
    correlation_id: str,
    event_id: uuid.UUID,
    item_id: uuid.UUID,
    excluded: Sequence[str] = (),
    previous_assignment_id: uuid.UUID | None = None,
    work_item_id: uuid.UUID | None = None,
) -> Recorded:
    """``event_id`` is the id of the event that will announce the outcome."""
    if decision.rep_id is not None and decision.team_id and decision.strategy:
        row = await insert_assignment(
            session,
            assignment_id=assignment_id_for(lead.lead_id, sequence),
            lead=lead,
            score=score,
            sequence=sequence,
            decision=decision,
            decided_at=at,
            sla_due_at=sla_due_at(lead, at, deps.default_sla_minutes),
            event_id=event_id,
            correlation_id=correlation_id,
            previous_assignment_id=previous_assignment_id,
            work_item_id=work_item_id,
        )
        return Recorded(assignment=row)
    item = await insert_work_item(
        session,
        item_id=item_id,
        lead=lead,
        score=score,
        team_id=decision.team_id,
        reason=decision.failure or "no_eligible_rep",
        candidates=decision.candidates,
        rules_version=decision.rules_version,
        created_at=at,
        event_id=event_id,
        correlation_id=correlation_id,
        excluded_reps=excluded,
        previous_assignment_id=previous_assignment_id,
        next_attempt_at=at + timedelta(seconds=deps.retry_backoff_s),
    )
    return Recorded(work_item=item)
