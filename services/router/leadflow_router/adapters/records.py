"""Writing decisions: assignments, work items, rotation counters, account owners.

Inserts use ``ON CONFLICT DO NOTHING`` against the unique constraints in ``tables``;
``None`` back means another transaction already recorded this lead's outcome, and the
caller emits nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from leadflow_contracts.email_domains import company_domain
from leadflow_contracts.lead import Lead
from leadflow_contracts.routing import Candidate
from servicekit.tables import upsert_rows
from sqlalchemy import func, select, union, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.tables import (
    account_owners,
    assignments,
    reps,
    rotation,
    work_items,
)
from leadflow_router.domain.model import Decision


def _candidates(candidates: Iterable[Candidate]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in candidates]


async def routed_leads(session: AsyncSession, lead_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """The leads among ``lead_ids`` that already have an assignment or a work item."""
    if not lead_ids:
        return set()
    wanted = sorted(lead_ids)
    query = union(
        select(assignments.c.lead_id).where(assignments.c.lead_id.in_(wanted)),
        select(work_items.c.lead_id).where(work_items.c.lead_id.in_(wanted)),
    )
    return set((await session.scalars(query)).all())


async def next_sequence(session: AsyncSession, lead_id: uuid.UUID) -> int:
    last = await session.scalar(
        select(func.max(assignments.c.sequence)).where(assignments.c.lead_id == lead_id)
    )
    return 0 if last is None else int(last) + 1


def assignment_row(
    *,
    assignment_id: uuid.UUID,
    lead: Lead,
    score: int,
    sequence: int,
    decision: Decision,
    decided_at: datetime,
    sla_due_at: datetime,
    event_id: uuid.UUID,
    correlation_id: str,
    previous_assignment_id: uuid.UUID | None = None,
    work_item_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The values of a new, open assignment row: ``decision`` to its rep."""
    if decision.rep_id is None or decision.team_id is None or decision.strategy is None:
        raise ValueError("an assignment needs a decision with a rep, a team and a strategy")
    return {
        "assignment_id": assignment_id,
        "tenant": lead.tenant_id,
        "lead_id": lead.lead_id,
        "sequence": sequence,
        "rep_id": decision.rep_id,
        "team_id": decision.team_id,
        "strategy": decision.strategy,
        "status": "open",
        "decided_at": decided_at,
        "sla_due_at": sla_due_at,
        "event_id": event_id,
        "correlation_id": correlation_id,
        "lead": lead.model_dump(mode="json"),
        "score": score,
        "candidates": _candidates(decision.candidates),
        "rules_version": decision.rules_version,
        "previous_assignment_id": previous_assignment_id,
        "work_item_id": work_item_id,
    }


async def insert_assignment(session: AsyncSession, **fields: Any) -> dict[str, Any] | None:
    """Insert one assignment (``assignment_row`` fields) and what it changes: the rep's
    last assignment, the team's rotation counters (the decision's credits) and the owner
    of the lead's domain."""
    values = assignment_row(**fields)
    row = (
        (
            await session.execute(
                insert(assignments)
                .values(values)
                .on_conflict_do_nothing()
                .returning(*assignments.c)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    lead: Lead = fields["lead"]
    rep_id, team_id, decided_at = values["rep_id"], values["team_id"], values["decided_at"]
    await session.execute(
        update(reps)
        .where(reps.c.tenant == lead.tenant_id, reps.c.rep_id == rep_id)
        .values(last_assigned_at=decided_at)
    )
    credits: Mapping[str, int] = fields["decision"].credits
    if credits:
        await save_credits(session, {(lead.tenant_id, team_id, r): c for r, c in credits.items()})
    domain = company_domain(lead.email_domain)
    if domain is not None:
        await save_owners(session, {(lead.tenant_id, domain): (rep_id, decided_at)})
    return dict(row)


async def save_credits(session: AsyncSession, credits: Mapping[tuple[str, str, str], int]) -> None:
    """Upsert rotation counters, keyed (tenant, team_id, rep_id)."""
    rows = [
        {"tenant": tenant, "team_id": team, "rep_id": rep, "credit": credit}
        for (tenant, team, rep), credit in sorted(credits.items())
    ]
    await upsert_rows(session, rotation, ("tenant", "team_id", "rep_id"), rows)


async def save_owners(
    session: AsyncSession, owners: Mapping[tuple[str, str], tuple[str, datetime]]
) -> None:
    """Upsert account owners: (tenant, company domain) → (rep_id, since)."""
    rows = [
        {"tenant": tenant, "email_domain": domain, "rep_id": rep, "updated_at": at}
        for (tenant, domain), (rep, at) in sorted(owners.items())
    ]
    await upsert_rows(session, account_owners, ("tenant", "email_domain"), rows)


def work_item_row(
    *,
    item_id: uuid.UUID,
    lead: Lead,
    score: int,
    team_id: str | None,
    reason: str,
    candidates: Sequence[Candidate],
    rules_version: int,
    created_at: datetime,
    event_id: uuid.UUID,
    correlation_id: str,
    excluded_reps: Sequence[str] = (),
    previous_assignment_id: uuid.UUID | None = None,
    next_attempt_at: datetime,
) -> dict[str, Any]:
    """The values of a new, waiting work item."""
    return {
        "item_id": item_id,
        "tenant": lead.tenant_id,
        "lead_id": lead.lead_id,
        "team_id": team_id,
        "reason": reason,
        "status": "waiting",
        "created_at": created_at,
        "next_attempt_at": next_attempt_at,
        "event_id": event_id,
        "correlation_id": correlation_id,
        "lead": lead.model_dump(mode="json"),
        "score": score,
        "candidates": _candidates(candidates),
        "excluded_reps": list(excluded_reps),
        "rules_version": rules_version,
        "previous_assignment_id": previous_assignment_id,
    }


async def insert_work_item(session: AsyncSession, **fields: Any) -> dict[str, Any] | None:
    """Insert one work item (``work_item_row`` fields); None if the lead has one open."""
    row = (
        (
            await session.execute(
                insert(work_items)
                .values(work_item_row(**fields))
                .on_conflict_do_nothing()
                .returning(*work_items.c)
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


async def wake_work_items(
    session: AsyncSession, tenant: str, team_ids: Sequence[str] | None, at: datetime
) -> None:
    """Make waiting items of these teams (all of the tenant's if None) due now."""
    query = update(work_items).where(
        work_items.c.tenant == tenant,
        work_items.c.status == "waiting",
        work_items.c.next_attempt_at > at,
    )
    if team_ids is not None:
        query = query.where(work_items.c.team_id.in_(list(team_ids)))
    await session.execute(query.values(next_attempt_at=at))
