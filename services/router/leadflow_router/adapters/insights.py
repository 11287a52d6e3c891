"""The stored decisions ``domain.insights`` reads: assignments decided in a period, and
the candidates of the decisions in it that found nobody (their work items)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.tables import assignments, work_items
from leadflow_router.domain.insights import AssignmentFacts


async def assignment_facts(
    session: AsyncSession, tenant: str, since: datetime, until: datetime, team_id: str | None
) -> list[AssignmentFacts]:
    """Assignments decided in [since, until), of ``team_id`` or of every team."""
    cols = assignments.c
    query = select(cols.rep_id, cols.team_id, cols.status, cols.sequence, cols.candidates).where(
        cols.tenant == tenant, cols.decided_at >= since, cols.decided_at < until
    )
    if team_id is not None:
        query = query.where(cols.team_id == team_id)
    return [
        AssignmentFacts(r.rep_id, r.team_id, r.status, r.sequence, tuple(r.candidates))
        for r in await session.execute(query)
    ]


async def failed_candidates(
    session: AsyncSession, tenant: str, since: datetime, until: datetime, team_id: str | None
) -> list[tuple[Any, ...]]:
    """Per work item created in [since, until): the candidates its decision skipped."""
    items = work_items.c
    query = select(items.candidates).where(
        items.tenant == tenant, items.created_at >= since, items.created_at < until
    )
    if team_id is not None:
        query = query.where(items.team_id == team_id)
    return [tuple(c) for (c,) in await session.execute(query)]
