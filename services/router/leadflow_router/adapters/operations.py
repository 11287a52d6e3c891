"""What the operator API reads and changes of assignments and work items (the routes
keep the rules; the SQL is here)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.tables import assignments, work_items

Row = dict[str, Any]


async def list_assignments(
    session: AsyncSession,
    tenant: str,
    *,
    lead_id: uuid.UUID | None = None,
    rep_id: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Row]:
    """Newest first (a lead's reassignments in reverse order)."""
    query = select(assignments).where(assignments.c.tenant == tenant)
    if lead_id is not None:
        query = query.where(assignments.c.lead_id == lead_id)
    if rep_id is not None:
        query = query.where(assignments.c.rep_id == rep_id)
    if status is not None:
        query = query.where(assignments.c.status == status)
    query = query.order_by(assignments.c.decided_at.desc(), assignments.c.sequence.desc())
    return [dict(r) for r in (await session.execute(query.limit(limit))).mappings()]


async def lock_assignment(session: AsyncSession, assignment_id: uuid.UUID) -> Row | None:
    query = select(assignments).where(assignments.c.assignment_id == assignment_id)
    row = (await session.execute(query.with_for_update())).mappings().first()
    return dict(row) if row is not None else None


async def _update(session: AsyncSession, key: Column[Any], ident: uuid.UUID, **values: Any) -> Row:
    """Set ``values`` on the row whose ``key`` is ``ident``; the row as it is now."""
    table = key.table
    statement = update(table).where(key == ident).values(**values).returning(*table.c)
    return dict((await session.execute(statement)).mappings().one())


async def update_assignment(session: AsyncSession, assignment_id: uuid.UUID, **values: Any) -> Row:
    return await _update(session, assignments.c.assignment_id, assignment_id, **values)


async def assignments_per_rep(
    session: AsyncSession, tenant: str, since: datetime, until: datetime
) -> dict[str, int]:
    """Assignments decided in [since, until), by rep."""
    query = (
        select(assignments.c.rep_id, func.count())
        .where(
            and_(
                assignments.c.tenant == tenant,
                assignments.c.decided_at >= since,
                assignments.c.decided_at < until,
            )
        )
        .group_by(assignments.c.rep_id)
    )
    return {rep_id: int(count) for rep_id, count in (await session.execute(query)).all()}


async def list_work_items(
    session: AsyncSession,
    tenant: str,
    statuses: Sequence[str],
    *,
    team_id: str | None = None,
    limit: int = 100,
) -> list[Row]:
    """Oldest first."""
    query = (
        select(work_items)
        .where(work_items.c.tenant == tenant)
        .where(work_items.c.status.in_(statuses))
        .order_by(work_items.c.created_at, work_items.c.item_id)
        .limit(limit)
    )
    if team_id is not None:
        query = query.where(work_items.c.team_id == team_id)
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def lock_work_item(session: AsyncSession, item_id: uuid.UUID) -> Row | None:
    query = select(work_items).where(work_items.c.item_id == item_id).with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def update_work_item(session: AsyncSession, item_id: uuid.UUID, **values: Any) -> Row:
    return await _update(session, work_items.c.item_id, item_id, **values)
