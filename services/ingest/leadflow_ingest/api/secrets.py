"""Sources and their webhook secrets (manager of the tenant).

A secret's value is returned once, at creation or rotation, and stored Fernet-encrypted.
Rotation keeps older secrets valid for ``grace_seconds`` (zero-downtime); revocation is
immediate in this replica and reaches others within the config cache TTL.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key
from servicekit.openapi import problems
from servicekit.problems import ProblemError
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.api.changes import flush, record_change
from leadflow_ingest.api.context import IngestContext, ingest_context
from leadflow_ingest.api.models import NewSecret, RotateIn, SecretInfo, SourceIn, SourceOut
from leadflow_ingest.api.tenants import not_found
from leadflow_ingest.domain.signatures import new_secret
from leadflow_ingest.domain.sources.registry import ADAPTERS

router = APIRouter(prefix="/v1/tenants/{slug}/sources", tags=["sources"])
MANAGER = require(Role.manager)


async def _issue(
    ctx: IngestContext, session: AsyncSession, request: Request, slug: str, source: str
) -> NewSecret:
    value, key = new_secret()
    row = await store.insert_secret(session, slug, source, ctx.box.seal(key), ctx.clock())
    return NewSecret(
        tenant=slug,
        source=source,
        secret_id=row["secret_id"],
        secret=value,
        created_at=row["created_at"],
        webhook_url=ctx.settings.public_url(
            str(request.app.url_path_for("receive_webhook", tenant=slug, source=source))
        ),
    )


def _info(row: dict[str, Any], ctx: IngestContext) -> SecretInfo:
    now = ctx.clock()
    expires = row["expires_at"]
    active = row["revoked_at"] is None and (expires is None or now < expires)
    return SecretInfo(**row, active=active)


async def _require_source(session: AsyncSession, slug: str, source: str) -> None:
    if await store.get_tenant(session, slug) is None:
        raise not_found(slug)
    if not await store.source_exists(session, slug, source):
        raise ProblemError(
            404, "not-found", "Not found", f"Tenant {slug!r} has no source {source!r}."
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
    if body.source not in ADAPTERS:
        raise ProblemError(
            422,
            "validation-error",
            "Unknown source",
            f"Supported sources: {', '.join(sorted(ADAPTERS))} (GET /v1/sources).",
            errors=[{"field": "body.source", "message": "unknown source"}],
        )
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        if await store.get_tenant(session, slug) is None:
            raise not_found(slug)
        if not await store.insert_source(session, slug, body.source):
            raise ProblemError(
                409,
                "conflict",
                "Conflict",
                f"Source {body.source!r} exists; rotate its secret with POST "
                f"/v1/tenants/{slug}/sources/{body.source}/secrets:rotate.",
            )
        secret = await _issue(ctx, session, request, slug, body.source)
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=slug,
            entity="source",
            entity_id=f"{slug}/{body.source}",
            action="created",
            before=None,
            after={"source": body.source, "secret_id": str(secret.secret_id)},
        )
    ctx.tenants.invalidate(slug)
    await flush(ctx.runtime)
    return secret


@router.post("/{source}/secrets:rotate", status_code=201, response_model=NewSecret)
async def rotate_secret(
    slug: Key, source: Key, body: RotateIn, request: Request, principal: Principal = MANAGER
) -> NewSecret:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        await _require_source(session, slug, source)
        expires_at = ctx.clock() + timedelta(seconds=body.grace_seconds)
        expiring = await store.expire_secrets(session, slug, source, expires_at)
        secret = await _issue(ctx, session, request, slug, source)
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=slug,
            entity="secret",
            entity_id=str(secret.secret_id),
            action="created",
            before=None,
            after={
                "source": source,
                "grace_seconds": body.grace_seconds,
                "previous_expire_at": expires_at.isoformat(),
                "previous": [str(s) for s in expiring],
            },
        )
    ctx.tenants.invalidate(slug)
    await flush(ctx.runtime)
    return secret


@router.get("/{source}/secrets", response_model=list[SecretInfo])
async def list_secrets(
    slug: Key, source: Key, request: Request, principal: Principal = MANAGER
) -> list[SecretInfo]:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session:
        await _require_source(session, slug, source)
        return [_info(r, ctx) for r in await store.list_secrets(session, slug, source)]


@router.delete("/{source}/secrets/{secret_id}", status_code=204)
async def revoke_secret(
    slug: Key, source: Key, secret_id: uuid.UUID, request: Request, principal: Principal = MANAGER
) -> Response:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        await _require_source(session, slug, source)
        row = await store.revoke_secret(session, slug, source, secret_id, ctx.clock())
        if row is None:
            raise ProblemError(404, "not-found", "Not found", f"No secret {secret_id}.")
        await record_change(
            session,
            ctx.runtime,
            actor=principal.sub,
            tenant_id=slug,
            entity="secret",
            entity_id=str(secret_id),
            action="deleted",
            before={"source": source},
            after=_info(row, ctx).model_dump(mode="json"),
        )
    ctx.tenants.invalidate(slug)
    await flush(ctx.runtime)
    return Response(status_code=204)
