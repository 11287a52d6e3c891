"""Writing a batch's outcomes in a few statements (see ``records`` for one at a time).

Rows are inserted in lead order under the same ``ON CONFLICT DO NOTHING`` constraints as
``records.insert_assignment`` / ``insert_work_item``. A row that comes back missing means
another transaction gave that lead an outcome after this batch looked: the in-memory
decisions that followed it would no longer be the one-by-one ones, so the caller must roll
the whole batch back and try again (``OutcomeConflict``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from servicekit.tables import insert_rows
from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.tables import assignments, reps, work_items


class OutcomeConflict(RuntimeError):
    """A lead of the batch got an assignment or work item from another transaction."""


async def _insert_all(
    session: AsyncSession, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> dict[uuid.UUID, dict[str, Any]]:
    if not rows:
        return {}
    ordered = sorted(rows, key=lambda r: r["lead_id"])
    inserted = await insert_rows(session, table, ordered, returning=True)
    if len(inserted) != len(rows):
        raise OutcomeConflict(
            f"{len(rows) - len(inserted)} of {len(rows)} leads were routed concurrently"
        )
    return {row[key]: dict(row) for row in inserted}


async def insert_assignments(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Insert ``records.assignment_row`` values; the stored rows by assignment id."""
    return await _insert_all(session, assignments, "assignment_id", rows)


async def insert_work_items(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Insert ``records.work_item_row`` values; the stored rows by item id."""
    return await _insert_all(session, work_items, "item_id", rows)


async def save_last_assigned(
    session: AsyncSession, last: Mapping[tuple[str, str], datetime]
) -> None:
    """Set each (tenant, rep)'s ``last_assigned_at`` (the batch's last assignment of it)."""
    if not last:
        return
    await session.execute(
        update(reps)
        .where(reps.c.tenant == bindparam("b_tenant"), reps.c.rep_id == bindparam("b_rep_id"))
        .values(last_assigned_at=bindparam("b_at")),
        [
            {"b_tenant": tenant, "b_rep_id": rep, "b_at": at}
            for (tenant, rep), at in sorted(last.items())
        ],
    )
