"""Routing rules of a tenant, versioned: every PUT stores a new version (1, 2, …);
GET returns the current one (version 0 with no rules before the first PUT)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key

from leadflow_router.adapters import admin
from leadflow_router.api.context import public, router_context
from leadflow_router.api.models import RulesIn
from leadflow_router.handlers import configure

router = APIRouter(prefix="/v1/tenants/{slug}/routing-rules", tags=["routing rules"])
MANAGER, VIEWER = require(Role.manager), require(Role.viewer)


def _empty(slug: str) -> dict[str, Any]:
    return {"tenant": slug, "version": 0, "rules": [], "default_team": None}


@router.get("")
async def get_rules(slug: Key, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        return public(await admin.latest_rules(session, slug)) or _empty(slug)


@router.get("/versions")
async def list_versions(
    slug: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = VIEWER,
) -> Any:
    """Stored versions, newest first, each with its rules, ``actor`` and ``created_at``."""
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        return [public(r) for r in await admin.rules_versions(session, slug, limit)]


@router.put("")
async def put_rules(
    slug: Key, body: RulesIn, request: Request, principal: Principal = MANAGER
) -> Any:
    principal.require_tenant(slug)
    ctx = router_context(request)
    row = await configure.put_rules(
        ctx.runtime,
        actor=principal.sub,
        tenant=slug,
        rules=[r.model_dump(mode="json") for r in body.rules],
        default_team=body.default_team,
        now=ctx.clock(),
    )
    ctx.work_queue.poke()
    return row
