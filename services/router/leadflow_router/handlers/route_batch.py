"""Routing a batch of ``lead.qualified`` events in one transaction.

Per batch, whatever its size (``servicekit.batch.BatchConsumer`` claims the event ids in
the inbox first and records the outputs after): one look-up of leads that already have
an outcome, the tenants' rules, the matched teams locked once (in a
fixed order), their reps' live load, the account owners; then every lead is decided in
memory, in order, each decision updating the state the next one reads
(``domain.batch.BatchState``); then one insert of the assignments, one of the work items,
the reps' last assignment, the rotation counters and the owners.

Guarantees (same as handling the events one by one, see ``README``):

* an event id seen before (inbox) never reaches this function: its stored outputs are
  re-published as they were (same deterministic ids);
* a lead that already has an outcome, or gets one from an earlier event of this batch,
  is not routed again; the unique constraints stay the last word (``OutcomeConflict``
  rolls the batch back if another transaction got there first);
* the i-th decision equals what one-by-one handling in batch order would have decided:
  the teams stay locked until commit, so no other router changes their state meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import Envelope, LeadQualified, derived_event_id
from leadflow_contracts.email_domains import company_domain
from leadflow_contracts.topics import LEAD_ASSIGNED, LEAD_ROUTING_FAILED
from servicekit.events import Outgoing
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters import bulk, snapshot
from leadflow_router.adapters.records import (
    assignment_row,
    routed_leads,
    save_credits,
    save_owners,
    work_item_row,
)
from leadflow_router.domain.batch import BatchState
from leadflow_router.domain.ids import assignment_id_for, work_item_id_for
from leadflow_router.domain.model import Decision
from leadflow_router.domain.rules import Match
from leadflow_router.domain.sla import sla_due_at
from leadflow_router.handlers import events
from leadflow_router.handlers.outcome import RoutingDeps


@dataclass
class Handled:
    """What became of one new input event: ``outcome`` is ``assigned``, ``routing_failed``
    or ``already_routed`` (decided nothing)."""

    outcome: str
    outputs: list[Outgoing] = field(default_factory=list)
    #: For a new assignment: receipt of the lead → the decision, in seconds.
    assigned_after_s: float | None = None


@dataclass
class _Pending:
    envelope: Envelope[Any]
    decision: Decision
    at: datetime
    row: dict[str, Any]


async def route_batch(
    session: AsyncSession,
    deps: RoutingDeps,
    fresh: Sequence[Envelope[Any]],
    clock: Callable[[], datetime],
) -> dict[uuid.UUID, Handled]:
    """Route ``fresh`` (distinct event ids never handled before, in order) inside
    ``session``'s transaction (the inbox claim and outputs are ``BatchConsumer``'s)."""
    handled: dict[uuid.UUID, Handled] = {}
    routed = await routed_leads(session, {e.lead_id for e in fresh if e.lead_id})
    todo: list[Envelope[Any]] = []
    for envelope in fresh:
        lead_id = envelope.payload.lead.lead_id
        if lead_id in routed:
            handled[envelope.event_id] = Handled("already_routed")
        else:
            routed.add(lead_id)
            todo.append(envelope)
    state, matches = await _load_state(session, todo)

    assigned: list[_Pending] = []
    queued: list[_Pending] = []
    for envelope, match in zip(todo, matches, strict=True):
        qualified: LeadQualified = envelope.payload
        lead = qualified.lead
        domain = company_domain(lead.email_domain)
        at = clock()
        decision = state.decide(lead, match, at=at, domain=domain)
        state.record(lead, decision, at=at, domain=domain)
        if decision.rep_id is not None and decision.team_id and decision.strategy:
            assigned.append(
                _Pending(envelope, decision, at, _assignment(deps, envelope, decision, at))
            )
        else:
            queued.append(
                _Pending(envelope, decision, at, _work_item(deps, envelope, decision, at))
            )

    rows = await bulk.insert_assignments(session, [p.row for p in assigned])
    items = await bulk.insert_work_items(session, [p.row for p in queued])
    await _save_rep_state(session, assigned)
    for p in assigned:
        row = rows[p.row["assignment_id"]]
        out = events.caused(
            LEAD_ASSIGNED, events.assigned(row), producer=deps.producer, cause=p.envelope
        )
        waited = (p.at - p.envelope.payload.lead.received_at).total_seconds()
        handled[p.envelope.event_id] = Handled("assigned", [out], waited)
    for p in queued:
        item = items[p.row["item_id"]]
        payload = events.routing_failed(item)
        out = events.caused(LEAD_ROUTING_FAILED, payload, producer=deps.producer, cause=p.envelope)
        handled[p.envelope.event_id] = Handled("routing_failed", [out])
    return handled


async def _load_state(
    session: AsyncSession, todo: Sequence[Envelope[Any]]
) -> tuple[BatchState, list[Match | None]]:
    """The batch's state and each lead's team match (in ``todo``'s order, matched once)."""
    leads = [(e.payload.lead, e.payload.score.score) for e in todo]
    state = BatchState(
        rules=await snapshot.load_rules_of(session, {lead.tenant_id for lead, _ in leads})
    )
    matches = [state.match(lead, score) for lead, score in leads]
    keys = {
        (lead.tenant_id, match.team_id)
        for (lead, _), match in zip(leads, matches, strict=True)
        if match is not None
    }
    state.teams = await snapshot.lock_teams(session, keys)
    accounts = [
        (lead.tenant_id, domain)
        for lead, _ in leads
        if (domain := company_domain(lead.email_domain)) is not None
    ]
    state.owners = await snapshot.load_owners(session, accounts)
    return state, matches


def _assignment(
    deps: RoutingDeps, envelope: Envelope[Any], decision: Decision, at: datetime
) -> dict[str, Any]:
    qualified: LeadQualified = envelope.payload
    lead = qualified.lead
    return assignment_row(
        assignment_id=assignment_id_for(lead.lead_id, 0),
        lead=lead,
        score=qualified.score.score,
        sequence=0,
        decision=decision,
        decided_at=at,
        sla_due_at=sla_due_at(lead, at, deps.default_sla_minutes),
        event_id=derived_event_id(envelope.event_id, LEAD_ASSIGNED.event_type),
        correlation_id=envelope.correlation_id,
    )


def _work_item(
    deps: RoutingDeps, envelope: Envelope[Any], decision: Decision, at: datetime
) -> dict[str, Any]:
    qualified: LeadQualified = envelope.payload
    return work_item_row(
        item_id=work_item_id_for(envelope.event_id),
        lead=qualified.lead,
        score=qualified.score.score,
        team_id=decision.team_id,
        reason=decision.failure or "no_eligible_rep",
        candidates=decision.candidates,
        rules_version=decision.rules_version,
        created_at=at,
        event_id=derived_event_id(envelope.event_id, LEAD_ROUTING_FAILED.event_type),
        correlation_id=envelope.correlation_id,
        next_attempt_at=at + timedelta(seconds=deps.retry_backoff_s),
    )


async def _save_rep_state(session: AsyncSession, assigned: Sequence[_Pending]) -> None:
    """What the assignments changed, last write wins (they are in decision order)."""
    last: dict[tuple[str, str], datetime] = {}
    credits: dict[tuple[str, str, str], int] = {}
    owners: dict[tuple[str, str], tuple[str, datetime]] = {}
    for p in assigned:
        lead = p.envelope.payload.lead
        rep_id, team_id = p.row["rep_id"], p.row["team_id"]
        last[(lead.tenant_id, rep_id)] = p.at
        credits.update({(lead.tenant_id, team_id, r): c for r, c in p.decision.credits.items()})
        if (domain := company_domain(lead.email_domain)) is not None:
            owners[(lead.tenant_id, domain)] = (rep_id, p.at)
    await bulk.save_last_assigned(session, last)
    await save_credits(session, credits)
    await save_owners(session, owners)
