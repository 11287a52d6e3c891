"""Loading what ``route`` needs: the tenant's current rules and one team's live state.

With ``lock=True`` the team row is locked (``SELECT … FOR UPDATE``) for the rest of the
transaction, so decisions within one team are serialized across router replicas: two
leads can never both take a rep's last free slot or read the same rotation counters.
"""

from __future__ import annotations

from typing import Any

from leadflow_contracts.email_domains import company_domain
from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.convert import rep_of, rules_of, team_of
from leadflow_router.adapters.tables import (
    account_owners,
    assignments,
    reps,
    rotation,
    routing_rules,
    teams,
)
from leadflow_router.domain.model import RepLoad, TeamState
from leadflow_router.domain.rules import RuleSet

OPEN = ("open", "acked")


def reps_with_load(*where: ColumnElement[bool]) -> Select[Any]:
    """``reps`` rows matching ``where``, each with its open assignments counted in the same
    statement (``open_assignments``): one round trip, one snapshot."""
    open_assignments = (
        select(func.count())
        .where(
            assignments.c.tenant == reps.c.tenant,
            assignments.c.rep_id == reps.c.rep_id,
            assignments.c.status.in_(OPEN),
        )
        .scalar_subquery()
    )
    return select(reps, open_assignments.label("open_assignments")).where(*where)


async def load_rules(session: AsyncSession, tenant: str) -> RuleSet:
    row = (
        (
            await session.execute(
                select(routing_rules)
                .where(routing_rules.c.tenant == tenant)
                .order_by(routing_rules.c.version.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return RuleSet()
    return rules_of(row["version"], row["rules"], row["default_team"])


async def open_counts(
    session: AsyncSession, reps: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Open assignments per (tenant, rep_id): rep ids are unique within a tenant only."""
    if not reps:
        return {}
    key = tuple_(assignments.c.tenant, assignments.c.rep_id)
    rows = await session.execute(
        select(assignments.c.tenant, assignments.c.rep_id, func.count())
        .where(key.in_(sorted(set(reps))), assignments.c.status.in_(OPEN))
        .group_by(assignments.c.tenant, assignments.c.rep_id)
    )
    return {(tenant, rep): count for tenant, rep, count in rows.all()}


async def load_team(
    session: AsyncSession, tenant: str, team_id: str, *, lock: bool
) -> TeamState | None:
    query = select(teams).where(teams.c.tenant == tenant, teams.c.team_id == team_id)
    team_row = (
        (await session.execute(query.with_for_update() if lock else query)).mappings().first()
    )
    if team_row is None:
        return None
    query = reps_with_load(reps.c.tenant == tenant, reps.c.team_ids.contains([team_id]))
    rep_rows = (await session.execute(query)).mappings().all()
    credits = dict(
        (
            await session.execute(
                select(rotation.c.rep_id, rotation.c.credit).where(
                    rotation.c.tenant == tenant, rotation.c.team_id == team_id
                )
            )
        ).all()
    )
    loads = tuple(
        RepLoad(
            rep=rep_of(row),
            open_assignments=row["open_assignments"],
            last_assigned_at=row["last_assigned_at"],
            credit=credits.get(row["rep_id"], 0),
        )
        for row in rep_rows
    )
    return TeamState(team_of(team_row), loads)


async def account_owner(session: AsyncSession, tenant: str, email_domain: str | None) -> str | None:
    domain = company_domain(email_domain)
    if domain is None:
        return None
    owner: str | None = await session.scalar(
        select(account_owners.c.rep_id).where(
            account_owners.c.tenant == tenant, account_owners.c.email_domain == domain
        )
    )
    return owner
