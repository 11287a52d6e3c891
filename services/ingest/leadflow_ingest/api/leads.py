"""``GET /v1/leads/{lead_id}``: the normalized lead, scoped to the token's tenants;
``GET /v1/tenants/{slug}/leads?email=…|phone=…``: a tenant's leads by contact."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from leadflow_contracts import Lead
from servicekit.auth import Principal, Role, require
from servicekit.commands import Invalid
from servicekit.problems import ProblemError

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.adapters.lead_store import find_leads, load_lead
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.api.tenants import not_found
from leadflow_ingest.domain.normalize import normalize_email, normalize_phone

router = APIRouter(tags=["leads"])
VIEWER = require(Role.viewer)


@router.get("/v1/leads/{lead_id}", response_model=Lead)
async def get_lead(lead_id: uuid.UUID, request: Request, principal: Principal = VIEWER) -> Any:
    async with ingest_context(request).runtime.sessions() as session:
        lead = await load_lead(session, lead_id, principal.tenant_filter())
    if lead is None:
        # Also for leads of tenants outside the token's scope: do not reveal they exist.
        raise ProblemError(
            404,
            "not-found",
            "Not found",
            f"No lead {lead_id} (yet): leads appear once the worker has processed them.",
        )
    return lead


@router.get("/v1/tenants/{slug}/leads", response_model=list[Lead])
async def search_leads(
    slug: str,
    request: Request,
    email: Annotated[str | None, Query(max_length=320)] = None,
    phone: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    principal: Principal = VIEWER,
) -> Any:
    """Newest first; the email and phone are normalized as stored (lower-cased, E.164 in
    the tenant's default region), so any spelling a sender used finds the lead."""
    principal.require_tenant(slug)
    if email is None and phone is None:
        raise Invalid(
            "Give email or phone.",
            title="A contact is required",
            field="query.email",
            message="give email or phone",
        )
    ctx = ingest_context(request)
    async with ctx.runtime.sessions() as session:
        tenant = await store.get_tenant(session, slug)
        if tenant is None:
            raise not_found(slug)
        return await find_leads(
            session,
            slug,
            email=normalize_email(email),
            phone=normalize_phone(phone, tenant["default_region"]),
            limit=limit,
        )
