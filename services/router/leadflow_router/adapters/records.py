"""Writing decisions: assignments, work items, rotation counters, account owners.

Inserts use ``ON CONFLICT DO NOTHING`` against the unique constraints in ``tables``;
``None`` back means another transaction already recorded this lead's outcome, and the
caller emits nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from leadflow_contracts.lead import Lead
from leadflow_contracts.routing import Candidate, Strategy
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.state import company_domain
from leadflow_router.adapters.tables import (
    account_owners,
    assignments,
    reps,
    rotation,
    work_items,
)


def _candidates(candidates: Iterable[Candidate]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in candidates]


async def lead_is_routed(session: AsyncSession, lead_id: uuid.UUID) -> bool:
    """True when the lead already has an assignment or a work item (any state)."""
    assigned = await session.scalar(
        select(func.count()).select_from(assignments).where(assignments.c.lead_id == lead_id)
    )
    queued = await session.scalar(
        select(func.count()).select_from(work_items).where(work_items.c.lead_id == lead_id)
    )
    return bool(assigned or queued)


async def next_sequence(session: AsyncSession, lead_id: uuid.UUID) -> int:
    last = await session.scalar(
        select(func.max(assignments.c.sequence)).where(assignments.c.lead_id == lead_id)
    )
    return 0 if last is None else int(last) + 1


async def insert_assignment(
    session: AsyncSession,
    *,
    assignment_id: uuid.UUID,
    lead: Lead,
    score: int,
    sequence: int,
    rep_id: str,
    team_id: str,
    strategy: Strategy,
    candidates: Sequence[Candidate],
    rules_version: int,
    decided_at: datetime,
    sla_due_at: datetime,
    event_id: uuid.UUID,
    correlation_id: str,
    credits: Mapping[str, int] | None = None,
    previous_assignment_id: uuid.UUID | None = None,
    work_item_id: uuid.UUID | None = None,
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                insert(assignments)
                .values(
                    assignment_id=assignment_id,
                    tenant=lead.tenant_id,
                    lead_id=lead.lead_id,
                    sequence=sequence,
                    rep_id=rep_id,
                    team_id=team_id,
                    strategy=strategy,
                    status="open",
                    decided_at=decided_at,
                    sla_due_at=sla_due_at,
                    event_id=event_id,
                    correlation_id=correlation_id,
                    lead=lead.model_dump(mode="json"),
                    score=score,
                    candidates=_candidates(candidates),
                    rules_version=rules_version,
                    previous_assignment_id=previous_assignment_id,
                    work_item_id=work_item_id,
                )
                .on_conflict_do_nothing()
                .returning(*assignments.c)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    await session.execute(
        update(reps).where(reps.c.rep_id == rep_id).values(last_assigned_at=decided_at)
    )
    if credits:
        stmt = insert(rotation).values(
            [
                {"tenant": lead.tenant_id, "team_id": team_id, "rep_id": r, "credit": c}
                for r, c in credits.items()
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[rotation.c.tenant, rotation.c.team_id, rotation.c.rep_id],
                set_={"credit": stmt.excluded.credit},
            )
        )
    domain = company_domain(lead.email_domain)
    if domain is not None:
        owner = insert(account_owners).values(
            tenant=lead.tenant_id, email_domain=domain, rep_id=rep_id, updated_at=decided_at
        )
        await session.execute(
            owner.on_conflict_do_update(
                index_elements=[account_owners.c.tenant, account_owners.c.email_domain],
                set_={"rep_id": rep_id, "updated_at": decided_at},
            )
        )
    return dict(row)


async def insert_work_item(
    session: AsyncSession,
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
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                insert(work_items)
                .values(
                    item_id=item_id,
                    tenant=lead.tenant_id,
                    lead_id=lead.lead_id,
                    team_id=team_id,
                    reason=reason,
                    status="waiting",
                    created_at=created_at,
                    next_attempt_at=next_attempt_at,
                    event_id=event_id,
                    correlation_id=correlation_id,
                    lead=lead.model_dump(mode="json"),
                    score=score,
                    candidates=_candidates(candidates),
                    excluded_reps=list(excluded_reps),
                    rules_version=rules_version,
                    previous_assignment_id=previous_assignment_id,
                )
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
