"""Tenants: admins of every tenant create; a manager of the tenant reads and changes
name and region; moving a tenant to another tier needs an admin of the tenant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key
from servicekit.openapi import problems
from servicekit.problems import ProblemError, refused_problem

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.api.models import TenantIn, TenantPatch
from leadflow_ingest.handlers import tenants
from leadflow_ingest.handlers.views import TenantOut

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
ADMIN = require(Role.admin, all_tenants="Creating a tenant")
MANAGER, VIEWER = require(Role.manager), require(Role.viewer)


def not_found(slug: str) -> ProblemError:
    return refused_problem(tenants.no_tenant(slug))


@router.post(
    "",
    status_code=201,
    response_model=TenantOut,
    responses=problems(s409="The tenant exists already."),
)
async def create_tenant(body: TenantIn, request: Request, principal: Principal = ADMIN) -> Any:
    ctx = ingest_context(request)
    row = await tenants.create_tenant(ctx.runtime, actor=principal.sub, fields=body.model_dump())
    ctx.tenants.invalidate(body.slug)
    return row


@router.get("", response_model=list[TenantOut])
async def list_tenants(request: Request, principal: Principal = VIEWER) -> Any:
    async with ingest_context(request).runtime.sessions() as session:
        return await store.list_tenants(session, principal.tenant_filter())


@router.get("/{slug}", response_model=TenantOut)
async def get_tenant(slug: Key, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    async with ingest_context(request).runtime.sessions() as session:
        row = await store.get_tenant(session, slug)
    if row is None:
        raise not_found(slug)
    return row


@router.patch("/{slug}", response_model=TenantOut)
async def patch_tenant(
    slug: Key, body: TenantPatch, request: Request, principal: Principal = MANAGER
) -> Any:
    principal.require_tenant(slug)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "tier" in changes:
        principal.require_role(Role.admin)
    ctx = ingest_context(request)
    row = await tenants.change_tenant(ctx.runtime, actor=principal.sub, slug=slug, changes=changes)
    ctx.tenants.invalidate(slug)
    return row
