"""``GET /v1/leads/{lead_id}``: the normalized lead, scoped to the token's tenants."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from leadflow_contracts import Lead
from servicekit.auth import Principal, Role, require
from servicekit.problems import ProblemError

from leadflow_ingest.adapters.lead_store import load_lead
from leadflow_ingest.api.context import ingest_context

router = APIRouter(prefix="/v1/leads", tags=["leads"])
VIEWER = require(Role.viewer)


@router.get("/{lead_id}", response_model=Lead)
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
