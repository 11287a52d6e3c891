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
from leadflow_ingest.api.changes import flush, record_change
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.api.models import TierIn, TierOut, TierPut

router = APIRouter(prefix="/v1/tiers", tags=["tiers"])
ADMIN = require(Role.admin, all_tenants="Managing tiers")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return TierOut.model_validate(row).model_dump(mode="json")


def _not_found(name: str) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", f"There is no tier {name!r}.")


@router.post(
    "", status_code=201, response_model=TierOut, responses=problems(s409="The tier exists already.")
)
async def create_tier(body: TierIn, request: Request, principal: Principal = ADMIN) -> Any:
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        row = await store.insert_tier(session, body.model_dump())
        if row is None:
            raise ProblemError(409, "conflict", "Conflict", f"Tier {body.name!r} exists already.")
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id="*",
            entity="tier",
            entity_id=body.name,
            action="created",
            before=None,
            after=_public(row),
        )
    await flush(ctx.runtime)
    return row


@router.get("", response_model=list[TierOut])
async def list_tiers(request: Request, principal: Principal = ADMIN) -> Any:
    async with ingest_context(request).runtime.sessions() as session:
        return await store.list_tiers(session)


@router.get("/{name}", response_model=TierOut)
async def get_tier(name: Key, request: Request, principal: Principal = ADMIN) -> Any:
    async with ingest_context(request).runtime.sessions() as session:
        row = await store.get_tier(session, name)
    if row is None:
        raise _not_found(name)
    return row


@router.put("/{name}", response_model=TierOut)
async def put_tier(name: Key, body: TierPut, request: Request, principal: Principal = ADMIN) -> Any:
    if body.name is not None and body.name != name:
        raise ProblemError(422, "validation-error", "Name mismatch", "Tiers cannot be renamed.")
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        before = await store.get_tier(session, name, lock=True)
        if before is None:
            raise _not_found(name)
        row = await store.update_tier(session, name, body.model_dump(exclude={"name"}))
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id="*",
            entity="tier",
            entity_id=name,
            action="updated",
            before=_public(before),
            after=_public(row),
        )
    ctx.tenants.invalidate()  # every tenant on this tier sees the new limits at once
    await flush(ctx.runtime)
    return row


@router.delete(
    "/{name}", status_code=204, responses=problems(s409="Tenants are still on this tier.")
)
async def delete_tier(name: Key, request: Request, principal: Principal = ADMIN) -> Response:
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        before = await store.get_tier(session, name, lock=True)
        if before is None:
            raise _not_found(name)
        if await store.tier_in_use(session, name):
            raise ProblemError(
                409, "conflict", "Tier in use", "Move its tenants to another tier first."
            )
        await store.delete_tier(session, name)
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id="*",
            entity="tier",
            entity_id=name,
            action="deleted",
            before=_public(before),
            after=None,
        )
    await flush(ctx.runtime)
    return Response(status_code=204)
