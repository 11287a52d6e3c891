"""The lead-status projection: which stage a lead is in, from its events alone.

Topics are consumed independently, so a lead's events arrive in any order (its
``lead.assigned`` may be appended before its ``lead.scored``). The projection therefore
never depends on arrival order: every event proposes a stage with a *stage key*
``(phase, occurred_at, tie, event_id)`` and the lead's stage is the proposal with the
greatest key. Phases follow the pipeline (received < created < scored < qualified or
not qualified < routing outcome), so a late event of an earlier stage never regresses
the stage; within the routing phase (assigned, in work queue, SLA breached,
reassigned — which can repeat) the latest ``occurred_at`` wins. Because merging is a
maximum (plus a count), ``merge`` is commutative and associative: a rebuild from the
event table in position order equals the live projection built in arrival order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    received = "received"
    created = "created"
    scored = "scored"
    qualified = "qualified"
    not_qualified = "not_qualified"
    in_work_queue = "in_work_queue"
    assigned = "assigned"
    sla_breached = "sla_breached"
    reassigned = "reassigned"


#: (phase, tie-break within equal occurred_at) of each stage.
_ORDER: dict[Stage, tuple[int, int]] = {
    Stage.received: (1, 0),
    Stage.created: (2, 0),
    Stage.scored: (3, 0),
    Stage.qualified: (4, 0),
    Stage.not_qualified: (4, 1),
    Stage.in_work_queue: (5, 0),
    Stage.assigned: (5, 1),
    Stage.sla_breached: (5, 2),
    Stage.reassigned: (5, 3),
}

#: Stages where the pipeline is done with the lead: nothing more is expected to happen
#: automatically soon, so such a lead is never "stuck". A work-queue item waits for a
#: manager (it is listed by the router's work-queue API, not here); an SLA breach is
#: followed by a reassignment, so a lead left there *is* stuck.
TERMINAL: frozenset[Stage] = frozenset(
    {Stage.not_qualified, Stage.in_work_queue, Stage.assigned, Stage.reassigned}
)

_BY_EVENT_TYPE: dict[str, Stage] = {
    "lead.received": Stage.received,
    "lead.created": Stage.created,
    "lead.qualified": Stage.qualified,
    "lead.routing_failed": Stage.in_work_queue,
    "lead.assigned": Stage.assigned,
    "lead.sla_breached": Stage.sla_breached,
    "lead.reassigned": Stage.reassigned,
}


def stage_of(event_type: str, payload: Mapping[str, Any]) -> Stage | None:
    """The stage an event moves its lead to (None: the event is not about a lead stage)."""
    if event_type == "lead.scored":
        return Stage.scored if payload.get("qualified") else Stage.not_qualified
    return _BY_EVENT_TYPE.get(event_type)


@dataclass(frozen=True)
class StageEvent:
    """What the projection needs of one appended event."""

    event_id: uuid.UUID
    event_type: str
    tenant_id: str
    lead_id: uuid.UUID
    occurred_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class LeadStatus:
    lead_id: uuid.UUID
    tenant_id: str
    stage: Stage | None
    stage_at: datetime | None
    stage_event_id: uuid.UUID | None
    last_event_type: str
    last_event_at: datetime
    last_event_id: uuid.UUID
    event_count: int

    @property
    def terminal(self) -> bool:
        return self.stage in TERMINAL


def _stage_key(s: LeadStatus) -> tuple[int, int, datetime, int, str] | None:
    if s.stage is None or s.stage_at is None:
        return None
    phase, tie = _ORDER[s.stage]
    return (phase, 0, s.stage_at, tie, str(s.stage_event_id))


def _last_key(s: LeadStatus) -> tuple[datetime, str]:
    return (s.last_event_at, str(s.last_event_id))


def status_of(event: StageEvent) -> LeadStatus:
    """The status a lead would have if ``event`` were its only event."""
    stage = stage_of(event.event_type, event.payload)
    return LeadStatus(
        lead_id=event.lead_id,
        tenant_id=event.tenant_id,
        stage=stage,
        stage_at=event.occurred_at if stage else None,
        stage_event_id=event.event_id if stage else None,
        last_event_type=event.event_type,
        last_event_at=event.occurred_at,
        last_event_id=event.event_id,
        event_count=1,
    )


def merge(a: LeadStatus, b: LeadStatus) -> LeadStatus:
    """The status of a lead whose events are those of ``a`` plus those of ``b``."""
    if a.lead_id != b.lead_id:
        raise ValueError("cannot merge the statuses of two different leads")
    key_a, key_b = _stage_key(a), _stage_key(b)
    stage_from = b if key_a is None or (key_b is not None and key_b > key_a) else a
    last_from = b if _last_key(b) > _last_key(a) else a
    # The last event's fields come with ``last_from``; the stage with ``stage_from``.
    return replace(
        last_from,
        stage=stage_from.stage,
        stage_at=stage_from.stage_at,
        stage_event_id=stage_from.stage_event_id,
        event_count=a.event_count + b.event_count,
    )


def apply(statuses: dict[uuid.UUID, LeadStatus], event: StageEvent) -> None:
    """Apply one event to ``statuses`` in place."""
    status = status_of(event)
    current = statuses.get(event.lead_id)
    statuses[event.lead_id] = status if current is None else merge(current, status)


def fold(
    events: Iterable[StageEvent], into: Mapping[uuid.UUID, LeadStatus] | None = None
) -> dict[uuid.UUID, LeadStatus]:
    """The statuses of ``into`` (default: none) with ``events`` applied on top."""
    statuses: dict[uuid.UUID, LeadStatus] = dict(into or {})
    for event in events:
        apply(statuses, event)
    return statuses
