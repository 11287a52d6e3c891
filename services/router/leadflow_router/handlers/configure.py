"""Admin use cases of the router: teams, reps, routing rules. Each is one ``command``.

Any change that can make a rep eligible (a new rep, a changed rep or team, new rules)
makes the tenant's waiting work items due at once (``wake_work_items``, in the same
transaction), so the work queue drains without waiting for its back-off; the caller then
pokes the work-queue timer.
"""

from __future__ import annotations

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


async def create_team(runtime: Runtime, *, actor: str, tenant: str, fields: Row) -> Row | None:
    team_id = fields["team_id"]
    async with command(runtime, actor=actor) as cmd:
        row = await admin.insert_team(cmd.session, {"tenant": tenant, **fields})
        if row is None:
            raise Conflict(f"Team {team_id!r} exists.")
        await cmd.created(tenant, "team", team_id, public(row))
    return public(row)


async def update_team(
    runtime: Runtime, *, actor: str, tenant: str, team_id: str, changes: Row, now: datetime
) -> Row | None:
    async with command(runtime, actor=actor) as cmd:
        before = await admin.get_team(cmd.session, tenant, team_id, lock=True)
        if before is None:
            raise missing("team", team_id)
        if not changes:
            return public(before)
        row = await admin.update_team(cmd.session, tenant, team_id, changes)
        await cmd.updated(tenant, "team", team_id, public(before), public(row))
        await wake_work_items(cmd.session, tenant, [team_id], now)
    return public(row)


async def delete_team(runtime: Runtime, *, actor: str, tenant: str, team_id: str) -> None:
    async with command(runtime, actor=actor) as cmd:
        before = await admin.get_team(cmd.session, tenant, team_id, lock=True)
        if before is None:
            raise missing("team", team_id)
        await admin.delete_team(cmd.session, tenant, team_id)
        await cmd.deleted(tenant, "team", team_id, public(before))


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


async def create_rep(
    runtime: Runtime, *, actor: str, tenant: str, fields: Row, now: datetime
) -> Row | None:
    rep_id = fields["rep_id"]
    async with command(runtime, actor=actor) as cmd:
        await _check_teams(cmd.session, tenant, fields.get("team_ids"))
        row = await admin.insert_rep(cmd.session, {"tenant": tenant, **fields})
        if row is None:
            raise Conflict(f"Rep {rep_id!r} exists.")
        await cmd.created(tenant, "rep", rep_id, public(row))
        await wake_work_items(cmd.session, tenant, None, now)
    return public(row)


async def change_rep(
    runtime: Runtime, *, actor: str, tenant: str, rep_id: str, changes: Row, now: datetime
) -> Row | None:
    async with command(runtime, actor=actor) as cmd:
        before = await admin.get_rep(cmd.session, tenant, rep_id, lock=True)
        if before is None:
            raise missing("rep", rep_id)
        if "team_ids" in changes:
            await _check_teams(cmd.session, tenant, changes["team_ids"])
        if not changes:
            return public(before)
        row = await admin.update_rep(cmd.session, tenant, rep_id, changes)
        await cmd.updated(tenant, "rep", rep_id, public(before), public(row))
        await wake_work_items(cmd.session, tenant, None, now)
    return public(row)


async def delete_rep(runtime: Runtime, *, actor: str, tenant: str, rep_id: str) -> None:
    async with command(runtime, actor=actor) as cmd:
        before = await admin.get_rep(cmd.session, tenant, rep_id, lock=True)
        if before is None:
            raise missing("rep", rep_id)
        await admin.delete_rep(cmd.session, tenant, rep_id)
        await cmd.deleted(tenant, "rep", rep_id, public(before))


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
