"""Loading a ``BatchState`` for a batch of leads in a fixed number of queries.

The same reads as ``state.load_rules`` / ``load_team`` / ``account_owner`` for one lead,
but one query per kind for the whole batch (no N+1): the tenants' current rules, the
matched teams locked ``FOR UPDATE`` in (tenant, team_id) order — a fixed order, so two
router consumers locking overlapping team sets cannot deadlock — then their reps with
their open counts, rotation counters and the owners of the leads' company domains.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import array, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.convert import rep_of, rules_of, team_of
from leadflow_router.adapters.state import reps_with_load
from leadflow_router.adapters.tables import account_owners, reps, rotation, routing_rules, teams
from leadflow_router.domain.batch import TeamKey
from leadflow_router.domain.model import RepLoad, TeamState
from leadflow_router.domain.rules import RuleSet


async def load_rules_of(session: AsyncSession, tenants: Collection[str]) -> dict[str, RuleSet]:
    """Each tenant's current (highest) rules version; tenants without rules are absent."""
    if not tenants:
        return {}
    rows = (
        await session.execute(
            select(routing_rules)
            .where(routing_rules.c.tenant.in_(sorted(tenants)))
            .order_by(routing_rules.c.tenant, routing_rules.c.version.desc())
            .ext(distinct_on(routing_rules.c.tenant))
        )
    ).mappings()
    return {r["tenant"]: rules_of(r["version"], r["rules"], r["default_team"]) for r in rows}


async def lock_teams(session: AsyncSession, keys: Collection[TeamKey]) -> dict[TeamKey, TeamState]:
    """The existing teams among ``keys``, locked, with their reps' live state."""
    if not keys:
        return {}
    team_rows = (
        (
            await session.execute(
                select(teams)
                .where(tuple_(teams.c.tenant, teams.c.team_id).in_(sorted(keys)))
                .order_by(teams.c.tenant, teams.c.team_id)
                .with_for_update()
            )
        )
        .mappings()
        .all()
    )
    found = [(r["tenant"], r["team_id"]) for r in team_rows]
    if not found:
        return {}
    query = reps_with_load(
        reps.c.tenant.in_({t for t, _ in found}),
        reps.c.team_ids.has_any(array(sorted({team for _, team in found}))),
    )
    rep_rows = (await session.execute(query)).mappings().all()
    credits = {
        (tenant, team, rep): credit
        for tenant, team, rep, credit in (
            await session.execute(
                select(
                    rotation.c.tenant, rotation.c.team_id, rotation.c.rep_id, rotation.c.credit
                ).where(tuple_(rotation.c.tenant, rotation.c.team_id).in_(found))
            )
        ).all()
    }
    states: dict[TeamKey, TeamState] = {}
    for row in team_rows:
        tenant, team = row["tenant"], row["team_id"]
        loads = tuple(
            RepLoad(
                rep=rep_of(r),
                open_assignments=r["open_assignments"],
                last_assigned_at=r["last_assigned_at"],
                credit=credits.get((tenant, team, r["rep_id"]), 0),
            )
            for r in rep_rows
            if r["tenant"] == tenant and team in r["team_ids"]
        )
        states[(tenant, team)] = TeamState(team_of(row), loads)
    return states


async def load_owners(
    session: AsyncSession, accounts: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(tenant, company domain) → owning rep, for the accounts that have an owner."""
    wanted = sorted(set(accounts))
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            account_owners.c.tenant, account_owners.c.email_domain, account_owners.c.rep_id
        ).where(tuple_(account_owners.c.tenant, account_owners.c.email_domain).in_(wanted))
    )
    return {(tenant, domain): rep for tenant, domain, rep in rows.all()}
