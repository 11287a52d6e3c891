"""Tenants: admins of every tenant create; a manager of the tenant reads and changes
name and region; moving a tenant to another tier needs an admin of the tenant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key
from servicekit.openapi import problems
from servicekit.problems import ProblemError

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.api.changes import flush, record_change
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.api.models import TenantIn, TenantOut, TenantPatch

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
ADMIN = require(Role.admin, all_tenants="Creating a tenant")
MANAGER, VIEWER = require(Role.manager), require(Role.viewer)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return TenantOut.model_validate(row).model_dump(mode="json")


def not_found(slug: str) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", f"There is no tenant {slug!r}.")


def _unknown_tier(tier: str) -> ProblemError:
    return ProblemError(
        422,
        "validation-error",
        "Unknown tier",
        f"There is no tier {tier!r}; create it first (POST /v1/tiers).",
        errors=[{"field": "body.tier", "message": "unknown tier"}],
    )


@router.post(
    "",
    status_code=201,
    response_model=TenantOut,
    responses=problems(s409="The tenant exists already."),
)
async def create_tenant(body: TenantIn, request: Request, principal: Principal = ADMIN) -> Any:
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        if await store.get_tier(session, body.tier) is None:
            raise _unknown_tier(body.tier)
        row = await store.insert_tenant(session, body.model_dump())
        if row is None:
            raise ProblemError(409, "conflict", "Conflict", f"Tenant {body.slug!r} exists.")
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=body.slug,
            entity="tenant",
            entity_id=body.slug,
            action="created",
            before=None,
            after=_public(row),
        )
    ctx.tenants.invalidate(body.slug)
    await flush(ctx.runtime)
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
    async with ctx.runtime.sessions() as session, session.begin():
        before = await store.get_tenant(session, slug, lock=True)
        if before is None:
            raise not_found(slug)
        if "tier" in changes and await store.get_tier(session, changes["tier"]) is None:
            raise _unknown_tier(changes["tier"])
        row = await store.update_tenant(session, slug, changes) if changes else before
        if changes:
            await record_change(
                session,
                ctx.runtime,
                actor=principal.sub,
                tenant_id=slug,
                entity="tenant",
                entity_id=slug,
                action="updated",
                before=_public(before),
                after=_public(row),
            )
    ctx.tenants.invalidate(slug)
    await flush(ctx.runtime)
    return row
