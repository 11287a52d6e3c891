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

from leadflow_router.adapters import admin
from leadflow_router.api.context import RouterContext, not_found, public, router_context
from leadflow_router.api.models import PresenceIn, RepFields, RepIn
from leadflow_router.handlers import configure

router = APIRouter(tags=["reps"])
MANAGER, OPERATOR, VIEWER = require(Role.manager), require(Role.operator), require(Role.viewer)
BASE = "/v1/tenants/{slug}/reps"


@router.post(BASE, status_code=201, responses=problems(s409="The tenant has this rep already."))
async def create_rep(
    slug: Key, body: RepIn, request: Request, principal: Principal = MANAGER
) -> Any:
    principal.require_tenant(slug)
    ctx = router_context(request)
    row = await configure.create(
        ctx.runtime,
        configure.REP,
        actor=principal.sub,
        tenant=slug,
        fields=body.model_dump(),
        now=ctx.clock(),
    )
    ctx.work_queue.poke()
    return row


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
    row = await configure.change(
        ctx.runtime,
        configure.REP,
        actor=principal.sub,
        tenant=tenant,
        ident=rep_id,
        changes=changes,
        now=ctx.clock(),
    )
    ctx.work_queue.poke()
    return row


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
    runtime = router_context(request).runtime
    await configure.delete(runtime, configure.REP, actor=principal.sub, tenant=slug, ident=rep_id)
    return Response(status_code=204)
