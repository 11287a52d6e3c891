"""Teams of a tenant: strategy and required skills. Managers write; viewers read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key, Name
from servicekit.openapi import problems

from leadflow_router.adapters import admin
from leadflow_router.api.context import not_found, public, router_context
from leadflow_router.api.models import TeamFields, TeamIn
from leadflow_router.handlers import configure

router = APIRouter(prefix="/v1/tenants/{slug}/teams", tags=["teams"])
MANAGER, VIEWER = require(Role.manager), require(Role.viewer)


@router.post("", status_code=201, responses=problems(s409="The team exists already."))
async def create_team(
    slug: Key, body: TeamIn, request: Request, principal: Principal = MANAGER
) -> Any:
    principal.require_tenant(slug)
    fields = body.model_dump() | {"name": body.name or body.team_id}
    ctx = router_context(request)
    return await configure.create(
        ctx.runtime,
        configure.TEAM,
        actor=principal.sub,
        tenant=slug,
        fields=fields,
        now=ctx.clock(),
    )


@router.get("")
async def list_teams(slug: Key, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        return [public(r) for r in await admin.list_teams(session, slug)]


@router.get("/{team_id}")
async def get_team(
    slug: Key, team_id: Name, request: Request, principal: Principal = VIEWER
) -> Any:
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        row = await admin.get_team(session, slug, team_id)
    if row is None:
        raise not_found("team", team_id)
    return public(row)


@router.api_route("/{team_id}", methods=["PUT", "PATCH"])
async def update_team(
    slug: Key, team_id: Name, body: TeamFields, request: Request, principal: Principal = MANAGER
) -> Any:
    """Changes the fields given in the body (PUT and PATCH alike)."""
    principal.require_tenant(slug)
    ctx = router_context(request)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    row = await configure.change(
        ctx.runtime,
        configure.TEAM,
        actor=principal.sub,
        tenant=slug,
        ident=team_id,
        changes=changes,
        now=ctx.clock(),
    )
    ctx.work_queue.poke()
    return row


@router.delete("/{team_id}", status_code=204)
async def delete_team(
    slug: Key, team_id: Name, request: Request, principal: Principal = MANAGER
) -> Response:
    principal.require_tenant(slug)
    runtime = router_context(request).runtime
    await configure.delete(runtime, configure.TEAM, actor=principal.sub, tenant=slug, ident=team_id)
    return Response(status_code=204)
