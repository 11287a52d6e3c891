"""Reps: team membership, skills, capacity, weight, time zone, working hours, presence.

``rep_id`` is chosen by the client and unique within its tenant: tenants A and B may
both have a rep ``alice``, and nothing tells A which ids B uses. Any change that can
make a rep eligible — a new rep, presence back to ``available``, more capacity, new
hours — makes the tenant's waiting work items due at once, so the work queue drains
without waiting for its back-off.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key, Name
from servicekit.openapi import problems
from servicekit.problems import ProblemError
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters import admin
from leadflow_router.adapters.records import wake_work_items
from leadflow_router.api.changes import record_change
from leadflow_router.api.context import RouterContext, not_found, public, router_context
from leadflow_router.api.models import PresenceIn, RepFields, RepIn

router = APIRouter(tags=["reps"])
MANAGER, OPERATOR, VIEWER = require(Role.manager), require(Role.operator), require(Role.viewer)
BASE = "/v1/tenants/{slug}/reps"


async def _check_teams(session: AsyncSession, tenant: str, team_ids: list[str] | None) -> None:
    missing = sorted(
        set(team_ids or []) - await admin.existing_team_ids(session, tenant, team_ids or [])
    )
    if missing:
        raise ProblemError(
            422,
            "validation-error",
            "Unknown team",
            f"Tenant {tenant!r} has no team {', '.join(missing)}; create it first.",
            errors=[{"field": "body.team_ids", "message": "unknown team"}],
        )


@router.post(BASE, status_code=201, responses=problems(s409="The tenant has this rep already."))
async def create_rep(
    slug: Key, body: RepIn, request: Request, principal: Principal = MANAGER
) -> Any:
    principal.require_tenant(slug)
    ctx = router_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        await _check_teams(session, slug, body.team_ids)
        row = await admin.insert_rep(session, {"tenant": slug, **body.model_dump()})
        if row is None:
            raise ProblemError(409, "conflict", "Conflict", f"Rep {body.rep_id!r} exists.")
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=slug,
            entity="rep",
            entity_id=body.rep_id,
            action="created",
            before=None,
            after=public(row),
        )
        await wake_work_items(session, slug, None, ctx.clock())
    await _done(ctx)
    return public(row)


@router.get(BASE)
async def list_reps(
    slug: Key, request: Request, team_id: Name | None = None, principal: Principal = VIEWER
) -> Any:
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        return [public(r) for r in await admin.list_reps(session, slug, team_id)]


@router.get(BASE + "/{rep_id}")
async def get_rep(slug: Key, rep_id: Name, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        row = await admin.get_rep(session, slug, rep_id)
    if row is None:
        raise not_found("rep", rep_id)
    return public(row)


async def _change(
    ctx: RouterContext, principal: Principal, tenant: str, rep_id: str, changes: dict[str, Any]
) -> Any:
    principal.require_tenant(tenant)
    async with ctx.runtime.sessions() as session, session.begin():
        before = await admin.get_rep(session, tenant, rep_id, lock=True)
        if before is None:
            raise not_found("rep", rep_id)
        if "team_ids" in changes:
            await _check_teams(session, tenant, changes["team_ids"])
        if not changes:
            return public(before)
        row = await admin.update_rep(session, tenant, rep_id, changes)
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=tenant,
            entity="rep",
            entity_id=rep_id,
            action="updated",
            before=public(before),
            after=public(row),
        )
        await wake_work_items(session, tenant, None, ctx.clock())
    await _done(ctx)
    return public(row)


@router.api_route(BASE + "/{rep_id}", methods=["PUT", "PATCH"])
async def update_rep(
    slug: Key, rep_id: Name, body: RepFields, request: Request, principal: Principal = MANAGER
) -> Any:
    """Changes the fields given in the body (PUT and PATCH alike; ``working_hours: null``
    removes the schedule)."""
    changes = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k in ("working_hours", "email")}
    return await _change(router_context(request), principal, slug, rep_id, changes)


@router.put(BASE + "/{rep_id}/presence")
async def set_presence(
    slug: Key, rep_id: Name, body: PresenceIn, request: Request, principal: Principal = OPERATOR
) -> Any:
    """Reps (operator tokens) and managers set presence: available / away / offline."""
    return await _change(
        router_context(request), principal, slug, rep_id, {"presence": body.presence}
    )


@router.delete(BASE + "/{rep_id}", status_code=204)
async def delete_rep(
    slug: Key, rep_id: Name, request: Request, principal: Principal = MANAGER
) -> Response:
    principal.require_tenant(slug)
    ctx = router_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        before = await admin.get_rep(session, slug, rep_id, lock=True)
        if before is None:
            raise not_found("rep", rep_id)
        await admin.delete_rep(session, slug, rep_id)
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=slug,
            entity="rep",
            entity_id=rep_id,
            action="deleted",
            before=public(before),
            after=None,
        )
    await ctx.flush()
    return Response(status_code=204)


async def _done(ctx: RouterContext) -> None:
    await ctx.flush()
    ctx.work_queue.poke()
