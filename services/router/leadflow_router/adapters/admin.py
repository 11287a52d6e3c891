"""Teams, reps and routing-rule versions: the rows the admin API reads and writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from leadflow_router.adapters.tables import reps, routing_rules, teams

Row = dict[str, Any]


def _team_key(tenant: str, team_id: str) -> list[ColumnElement[bool]]:
    return [teams.c.tenant == tenant, teams.c.team_id == team_id]


async def _one(session: AsyncSession, query: Any) -> Row | None:
    row = (await session.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def _insert(session: AsyncSession, table: Table, values: Row) -> Row | None:
    query = insert(table).values(**values).on_conflict_do_nothing().returning(*table.c)
    return await _one(session, query)


async def insert_team(session: AsyncSession, values: Row) -> Row | None:
    return await _insert(session, teams, values)


async def get_team(
    session: AsyncSession, tenant: str, team_id: str, *, lock: bool = False
) -> Row | None:
    query = select(teams).where(*_team_key(tenant, team_id))
    return await _one(session, query.with_for_update() if lock else query)


async def list_teams(session: AsyncSession, tenant: str) -> list[Row]:
    rows = await session.execute(
        select(teams).where(teams.c.tenant == tenant).order_by(teams.c.team_id)
    )
    return [dict(r) for r in rows.mappings()]


async def update_team(session: AsyncSession, tenant: str, team_id: str, changes: Row) -> Row | None:
    query = (
        update(teams)
        .where(*_team_key(tenant, team_id))
        .values(**changes, updated_at=func.now())
        .returning(*teams.c)
    )
    return await _one(session, query)


async def delete_team(session: AsyncSession, tenant: str, team_id: str) -> None:
    await session.execute(delete(teams).where(*_team_key(tenant, team_id)))


async def existing_team_ids(session: AsyncSession, tenant: str, team_ids: list[str]) -> set[str]:
    rows = await session.scalars(
        select(teams.c.team_id).where(teams.c.tenant == tenant, teams.c.team_id.in_(team_ids))
    )
    return set(rows)


async def insert_rep(session: AsyncSession, values: Row) -> Row | None:
    return await _insert(session, reps, values)


def _rep_key(tenant: str, rep_id: str) -> list[ColumnElement[bool]]:
    return [reps.c.tenant == tenant, reps.c.rep_id == rep_id]


async def get_rep(
    session: AsyncSession, tenant: str, rep_id: str, *, lock: bool = False
) -> Row | None:
    query = select(reps).where(*_rep_key(tenant, rep_id))
    return await _one(session, query.with_for_update() if lock else query)


async def list_reps(session: AsyncSession, tenant: str, team_id: str | None = None) -> list[Row]:
    query = select(reps).where(reps.c.tenant == tenant).order_by(reps.c.rep_id)
    if team_id is not None:
        query = query.where(reps.c.team_ids.contains([team_id]))
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def update_rep(session: AsyncSession, tenant: str, rep_id: str, changes: Row) -> Row | None:
    query = (
        update(reps)
        .where(*_rep_key(tenant, rep_id))
        .values(**changes, updated_at=func.now())
        .returning(*reps.c)
    )
    return await _one(session, query)


async def delete_rep(session: AsyncSession, tenant: str, rep_id: str) -> None:
    await session.execute(delete(reps).where(*_rep_key(tenant, rep_id)))


async def latest_rules(session: AsyncSession, tenant: str, *, lock: bool = False) -> Row | None:
    if lock:  # serialize concurrent PUTs of one tenant's rules (version numbers)
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"rules:{tenant}"))))
    query = (
        select(routing_rules)
        .where(routing_rules.c.tenant == tenant)
        .order_by(routing_rules.c.version.desc())
        .limit(1)
    )
    return await _one(session, query)


async def insert_rules(session: AsyncSession, values: Row) -> Row:
    row = await _insert(session, routing_rules, values)
    assert row is not None, "rules version collision despite the advisory lock"
    return row


async def rules_versions(session: AsyncSession, tenant: str, limit: int) -> list[Row]:
    """Newest first: every stored version with who saved it and when."""
    query = (
        select(routing_rules)
        .where(routing_rules.c.tenant == tenant)
        .order_by(routing_rules.c.version.desc())
        .limit(limit)
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]
