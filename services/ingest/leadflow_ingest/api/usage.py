"""``GET /v1/tenants/{slug}/usage``: the tenant's counters against its tier's limits, read
from the same per-window rows the webhook path reserves in (so it is what 429s go by)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from servicekit.auth import Principal, Role, require

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.api.models import UsageOut
from leadflow_ingest.api.tenants import not_found
from leadflow_ingest.domain.quota import windows

router = APIRouter(prefix="/v1/tenants/{slug}", tags=["tenants"])
VIEWER = require(Role.viewer)


@router.get("/usage", response_model=UsageOut)
async def get_usage(slug: str, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    ctx = ingest_context(request)
    now = windows(ctx.clock())
    async with ctx.runtime.sessions() as session:
        tenant = await store.get_tenant(session, slug)
        if tenant is None:
            raise not_found(slug)
        tier = await store.get_tier(session, tenant["tier"])
        counts = await store.usage_counts(session, slug, [now.minute, now.month])
    assert tier is not None  # tenants.tier references tiers.name
    return UsageOut(
        tenant=slug,
        tier=tier["name"],
        period=now.month[1:],
        accepted_this_period=counts.get(now.month, 0),
        monthly_quota=tier["monthly_quota"],
        accepted_this_minute=counts.get(now.minute, 0),
        rate_per_minute=tier["rate_per_minute"],
        resets_in_seconds=now.seconds_to_next_month,
    )
