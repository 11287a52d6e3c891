"""Envelopes of the router's events, built from stored rows.

Events with an input message (``lead.qualified``) derive their ids from it. Events of
the timers and of managers have no input message: their ids derive from the record they
are about (``derived_event_id(work_item_id | assignment_id, event_type)``) so a retried
transaction re-creates the same ids, and ``causation_id`` names the event that led here
(the ``lead.routing_failed`` of the item, the ``lead.assigned`` of the breached
assignment).
"""

from __future__ import annotations

import uuid
from typing import Any

from leadflow_contracts import Envelope, Producer, TopicSpec
from leadflow_contracts.routing import (
    Candidate,
    LeadAssigned,
    LeadReassigned,
    LeadRoutingFailed,
    LeadSlaBreached,
)
from pydantic import BaseModel
from servicekit.events import Outgoing, new_envelope

Row = dict[str, Any]


def candidates(row: Row) -> list[Candidate]:
    return [Candidate.model_validate(c) for c in row["candidates"]]


def assigned(row: Row) -> LeadAssigned:
    return LeadAssigned(
        assignment_id=row["assignment_id"],
        rep_id=row["rep_id"],
        team_id=row["team_id"],
        strategy=row["strategy"],
        candidates=candidates(row),
        rules_version=row["rules_version"],
        sla_due_at=row["sla_due_at"],
    )


def routing_failed(item: Row) -> LeadRoutingFailed:
    return LeadRoutingFailed(
        reason=item["reason"],
        work_item_id=item["item_id"],
        team_id=item["team_id"],
        candidates=candidates(item),
        rules_version=item["rules_version"],
    )


def sla_breached(row: Row, breached_at: Any) -> LeadSlaBreached:
    return LeadSlaBreached(
        assignment_id=row["assignment_id"],
        rep_id=row["rep_id"],
        team_id=row["team_id"],
        sla_due_at=row["sla_due_at"],
        breached_at=breached_at,
    )


def reassigned(previous: Row, row: Row) -> LeadReassigned:
    return LeadReassigned(
        previous_assignment_id=previous["assignment_id"],
        previous_rep_id=previous["rep_id"],
        assignment_id=row["assignment_id"],
        rep_id=row["rep_id"],
        team_id=row["team_id"],
        reason="sla_breached",
        candidates=candidates(row),
        sla_due_at=row["sla_due_at"],
    )


def caused(
    spec: TopicSpec, payload: BaseModel, *, producer: Producer, cause: Envelope[Any]
) -> Outgoing:
    return Outgoing.of(spec, new_envelope(spec, payload, producer=producer, cause=cause))


def uncaused(
    spec: TopicSpec,
    payload: BaseModel,
    *,
    producer: Producer,
    event_id: uuid.UUID,
    row: Row,
    causation_id: uuid.UUID | None,
) -> Outgoing:
    """An event of a timer or a manager about ``row`` (an assignment or work item)."""
    envelope = new_envelope(
        spec,
        payload,
        producer=producer,
        event_id=event_id,
        tenant_id=row["tenant"],
        lead_id=row["lead_id"],
        correlation_id=row["correlation_id"],
    )
    return Outgoing.of(spec, envelope.model_copy(update={"causation_id": causation_id}))
