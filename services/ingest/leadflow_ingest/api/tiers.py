"""Billing tiers: data, never code. Changes apply without a restart.

Tiers are global (every tenant on a tier shares its limits), so every route needs an
admin whose token covers every tenant; an admin scoped to some tenants gets 403.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key
from servicekit.openapi import problems
from servicekit.problems import ProblemError

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.api.models import TierIn, TierPut
from leadflow_ingest.handlers import tiers
from leadflow_ingest.handlers.views import TierOut

router = APIRouter(prefix="/v1/tiers", tags=["tiers"])
ADMIN = require(Role.admin, all_tenants="Managing tiers")


@router.post(
    "", status_code=201, response_model=TierOut, responses=problems(s409="The tier exists already.")
)
async def create_tier(body: TierIn, request: Request, principal: Principal = ADMIN) -> Any:
    runtime = ingest_context(request).runtime
    return await tiers.create_tier(runtime, actor=principal.sub, fields=body.model_dump())


@router.get("", response_model=list[TierOut])
async def list_tiers(request: Request, principal: Principal = ADMIN) -> Any:
    async with ingest_context(request).runtime.sessions() as session:
        return await store.list_tiers(session)


@router.get("/{name}", response_model=TierOut)
async def get_tier(name: Key, request: Request, principal: Principal = ADMIN) -> Any:
    async with ingest_context(request).runtime.sessions() as session:
        row = await store.get_tier(session, name)
    if row is None:
        raise tiers.no_tier(name)
    return row


@router.put("/{name}", response_model=TierOut)
async def put_tier(name: Key, body: TierPut, request: Request, principal: Principal = ADMIN) -> Any:
    if body.name is not None and body.name != name:
        raise ProblemError(422, "validation-error", "Name mismatch", "Tiers cannot be renamed.")
    ctx = ingest_context(request)
    fields = body.model_dump(exclude={"name"})
    row = await tiers.replace_tier(ctx.runtime, actor=principal.sub, name=name, fields=fields)
    ctx.tenants.invalidate()  # every tenant on this tier sees the new limits at once
    return row


@router.delete(
    "/{name}", status_code=204, responses=problems(s409="Tenants are still on this tier.")
)
async def delete_tier(name: Key, request: Request, principal: Principal = ADMIN) -> Response:
    runtime = ingest_context(request).runtime
    await tiers.delete_tier(runtime, actor=principal.sub, name=name)
    return Response(status_code=204)
