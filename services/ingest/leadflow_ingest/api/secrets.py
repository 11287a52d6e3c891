"""Sources and their webhook secrets (manager of the tenant).

A secret's value is returned once, at creation or rotation, and stored Fernet-encrypted.
Rotation keeps older secrets valid for ``grace_seconds`` (zero-downtime); revocation is
immediate in this replica and reaches others within the config cache TTL.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key
from servicekit.openapi import problems

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.api.context import IngestContext, ingest_context
from leadflow_ingest.api.models import NewSecret, RotateIn, SourceIn, SourceOut
from leadflow_ingest.api.tenants import not_found
from leadflow_ingest.handlers import secrets
from leadflow_ingest.handlers.views import SecretInfo

router = APIRouter(prefix="/v1/tenants/{slug}/sources", tags=["sources"])
MANAGER = require(Role.manager)


def _new_secret(
    ctx: IngestContext, request: Request, slug: str, source: str, issued: secrets.Issued
) -> NewSecret:
    return NewSecret(
        tenant=slug,
        source=source,
        secret_id=issued.secret_id,
        secret=issued.value,
        created_at=issued.created_at,
        webhook_url=ctx.settings.public_url(
            str(request.app.url_path_for("receive_webhook", tenant=slug, source=source))
        ),
    )


@router.get("", response_model=list[SourceOut])
async def list_sources(
    slug: Key, request: Request, principal: Principal = MANAGER
) -> list[dict[str, Any]]:
    principal.require_tenant(slug)
    async with ingest_context(request).runtime.sessions() as session:
        if await store.get_tenant(session, slug) is None:
            raise not_found(slug)
        return await store.list_sources(session, slug)


@router.post(
    "",
    status_code=201,
    response_model=NewSecret,
    responses=problems(s409="The tenant has this source already."),
)
async def add_source(
    slug: Key, body: SourceIn, request: Request, principal: Principal = MANAGER
) -> NewSecret:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    issued = await ctx.secrets.add_source(principal.sub, slug, body.source)
    return _new_secret(ctx, request, slug, body.source, issued)


@router.post("/{source}/secrets:rotate", status_code=201, response_model=NewSecret)
async def rotate_secret(
    slug: Key, source: Key, body: RotateIn, request: Request, principal: Principal = MANAGER
) -> NewSecret:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    issued = await ctx.secrets.rotate(principal.sub, slug, source, body.grace_seconds)
    return _new_secret(ctx, request, slug, source, issued)


@router.get("/{source}/secrets", response_model=list[SecretInfo])
async def list_secrets(
    slug: Key, source: Key, request: Request, principal: Principal = MANAGER
) -> list[SecretInfo]:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session:
        await secrets.require_source(session, slug, source)
        rows = await store.list_secrets(session, slug, source)
    now = ctx.clock()
    return [secrets.secret_info(r, now) for r in rows]


@router.delete("/{source}/secrets/{secret_id}", status_code=204)
async def revoke_secret(
    slug: Key, source: Key, secret_id: uuid.UUID, request: Request, principal: Principal = MANAGER
) -> Response:
    principal.require_tenant(slug)
    await ingest_context(request).secrets.revoke(principal.sub, slug, source, secret_id)
    return Response(status_code=204)
