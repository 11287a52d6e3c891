"""Admin use cases of the router: teams and reps (``create`` / ``change`` / ``delete`` of
a ``Kind``: ``TEAM`` or ``REP``), routing rules. Each is one ``command``.

Any change that can make a rep eligible (a new rep, a changed rep or team, new rules)
makes the tenant's waiting work items due at once (``wake_work_items``, in the same
transaction), so the work queue drains without waiting for its back-off; the caller then
pokes the work-queue timer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from servicekit.commands import Action, Change, Conflict, Invalid, NotFound, command
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters import admin
from leadflow_router.adapters.convert import public
from leadflow_router.adapters.records import wake_work_items

Row = dict[str, Any]


def missing(what: str, ident: object) -> NotFound:
    return NotFound(f"There is no {what} {str(ident)!r}.")


@dataclass(frozen=True)
class Kind:
    """Teams and reps change alike; what differs is which work items a change wakes
    (``None``: every team's) and whether the row names teams that must exist."""

    name: str  # the entity in config.changed and in "There is no …"
    key: str
    get: Callable[..., Awaitable[Row | None]]
    insert: Callable[[AsyncSession, Row], Awaitable[Row | None]]
    update: Callable[[AsyncSession, str, str, Row], Awaitable[Row | None]]
    delete: Callable[[AsyncSession, str, str], Awaitable[None]]
    wakes: Callable[[str], list[str] | None]
    wakes_on_create: bool
    names_teams: bool


TEAM = Kind(
    "team", "team_id", admin.get_team, admin.insert_team, admin.update_team, admin.delete_team,
    wakes=lambda team_id: [team_id], wakes_on_create=False, names_teams=False,
)  # fmt: skip
REP = Kind(
    "rep", "rep_id", admin.get_rep, admin.insert_rep, admin.update_rep, admin.delete_rep,
    wakes=lambda rep_id: None, wakes_on_create=True, names_teams=True,
)  # fmt: skip


async def _check_teams(session: AsyncSession, tenant: str, team_ids: list[str] | None) -> None:
    known = await admin.existing_team_ids(session, tenant, team_ids or [])
    unknown = sorted(set(team_ids or []) - known)
    if unknown:
        raise Invalid(
            f"Tenant {tenant!r} has no team {', '.join(unknown)}; create it first.",
            title="Unknown team",
            field="body.team_ids",
            message="unknown team",
        )


async def _locked(session: AsyncSession, kind: Kind, tenant: str, ident: str) -> Row:
    before = await kind.get(session, tenant, ident, lock=True)
    if before is None:
        raise missing(kind.name, ident)
    return before


async def create(
    runtime: Runtime, kind: Kind, *, actor: str, tenant: str, fields: Row, now: datetime
) -> Row | None:
    ident = fields[kind.key]
    async with command(runtime, actor=actor) as cmd:
        if kind.names_teams:
            await _check_teams(cmd.session, tenant, fields.get("team_ids"))
        row = await kind.insert(cmd.session, {"tenant": tenant, **fields})
        if row is None:
            raise Conflict(f"{kind.name.capitalize()} {ident!r} exists.")
        await cmd.created(tenant, kind.name, ident, public(row))
        if kind.wakes_on_create:
            await wake_work_items(cmd.session, tenant, kind.wakes(ident), now)
    return public(row)


async def change(
    runtime: Runtime,
    kind: Kind,
    *,
    actor: str,
    tenant: str,
    ident: str,
    changes: Row,
    now: datetime,
) -> Row | None:
    """Apply ``changes`` (possibly none: then the row as it is, and no event)."""
    async with command(runtime, actor=actor) as cmd:
        before = await _locked(cmd.session, kind, tenant, ident)
        if kind.names_teams and "team_ids" in changes:
            await _check_teams(cmd.session, tenant, changes["team_ids"])
        if not changes:
            return public(before)
        row = await kind.update(cmd.session, tenant, ident, changes)
        await cmd.updated(tenant, kind.name, ident, public(before), public(row))
        await wake_work_items(cmd.session, tenant, kind.wakes(ident), now)
    return public(row)


async def delete(runtime: Runtime, kind: Kind, *, actor: str, tenant: str, ident: str) -> None:
    async with command(runtime, actor=actor) as cmd:
        before = await _locked(cmd.session, kind, tenant, ident)
        await kind.delete(cmd.session, tenant, ident)
        await cmd.deleted(tenant, kind.name, ident, public(before))


async def put_rules(
    runtime: Runtime,
    *,
    actor: str,
    tenant: str,
    rules: list[Row],
    default_team: str | None,
    now: datetime,
) -> Row | None:
    """Store the next version (1 for the first) of the tenant's routing rules."""
    async with command(runtime, actor=actor) as cmd:
        before = await admin.latest_rules(cmd.session, tenant, lock=True)
        version = 1 if before is None else before["version"] + 1
        row = await admin.insert_rules(
            cmd.session,
            {
                "tenant": tenant,
                "version": version,
                "rules": rules,
                "default_team": default_team,
                "actor": actor,
            },
        )
        action: Action = "created" if before is None else "updated"
        await cmd.record(
            Change(tenant, "routing_rules", tenant, action, public(before), public(row))
        )
        await wake_work_items(cmd.session, tenant, None, now)
    return public(row)
