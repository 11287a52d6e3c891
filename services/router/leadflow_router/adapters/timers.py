"""What the SLA and work-queue timers read and write, one row at a time.

Each ``next_*`` locks the row it returns with ``FOR UPDATE SKIP LOCKED`` for the rest of
the caller's transaction: router replicas ticking at once take different rows instead of
waiting on each other, and a row is never handled twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.tables import assignments, work_items

Row = dict[str, Any]


async def _first_locked(session: AsyncSession, query: Select[Any]) -> Row | None:
    row = (await session.execute(query.limit(1).with_for_update(skip_locked=True))).mappings()
    first = row.first()
    return None if first is None else dict(first)


async def next_overdue_assignment(session: AsyncSession, now: datetime) -> Row | None:
    """The open assignment whose SLA ran out first, locked."""
    return await _first_locked(
        session,
        select(assignments)
        .where(assignments.c.status == "open", assignments.c.sla_due_at <= now)
        .order_by(assignments.c.sla_due_at),
    )


async def mark_breached(session: AsyncSession, assignment_id: Any, at: datetime) -> None:
    await session.execute(
        update(assignments)
        .where(assignments.c.assignment_id == assignment_id)
        .values(status="breached", ended_at=at)
    )


async def breached_reps(session: AsyncSession, lead_id: Any) -> set[str]:
    """Reps who already let this lead's SLA run out (never assigned it again)."""
    return set(
        await session.scalars(
            select(assignments.c.rep_id).where(
                assignments.c.lead_id == lead_id, assignments.c.status == "breached"
            )
        )
    )


async def next_due_item(session: AsyncSession, now: datetime) -> Row | None:
    """The oldest waiting work item due for an attempt, locked."""
    return await _first_locked(
        session,
        select(work_items)
        .where(work_items.c.status == "waiting", work_items.c.next_attempt_at <= now)
        .order_by(work_items.c.created_at, work_items.c.item_id),
    )


async def mark_item_assigned(session: AsyncSession, item_id: Any, assignment_id: Any) -> None:
    await session.execute(
        update(work_items)
        .where(work_items.c.item_id == item_id)
        .values(status="assigned", assignment_id=assignment_id)
    )


async def postpone_item(
    session: AsyncSession,
    item_id: Any,
    *,
    next_attempt_at: datetime,
    reason: str,
    team_id: str | None,
    candidates: Sequence[Row],
) -> None:
    """Count a failed attempt and schedule the next one."""
    await session.execute(
        update(work_items)
        .where(work_items.c.item_id == item_id)
        .values(
            attempts=work_items.c.attempts + 1,
            next_attempt_at=next_attempt_at,
            reason=reason,
            team_id=team_id,
            candidates=list(candidates),
        )
    )
