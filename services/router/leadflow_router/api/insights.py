"""``GET /v1/tenants/{slug}/routing-insights``: per team and period, each rep's share of
assignments against their weight, why reps were skipped, SLA breaches and
reassignments (computed by ``domain.insights`` from the stored decisions: assignments
and the work items of decisions that found nobody)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from servicekit.auth import Principal, Role, require

from leadflow_router.adapters import admin
from leadflow_router.adapters import insights as stored
from leadflow_router.api.context import not_found, public, router_context
from leadflow_router.domain.insights import insights

router = APIRouter(tags=["insights"])
VIEWER = require(Role.viewer)


@router.get("/v1/tenants/{slug}/routing-insights")
async def routing_insights(
    slug: str,
    request: Request,
    team_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    principal: Principal = VIEWER,
) -> Any:
    """Assignments decided in [since, until) (default: the last 7 days), of one team or
    all; ``reps`` are the team's reps (every rep of the tenant without ``team_id``)."""
    principal.require_tenant(slug)
    ctx = router_context(request)
    until = until or ctx.clock()
    since = since or until - timedelta(days=7)
    async with ctx.runtime.sessions() as session:
        if team_id is not None and await admin.get_team(session, slug, team_id) is None:
            raise not_found("team", team_id)
        reps = await admin.list_reps(session, slug, team_id)
        facts = await stored.assignment_facts(session, slug, since, until, team_id)
        failures = await stored.failed_candidates(session, slug, since, until, team_id)
    body = insights(facts, reps, failures)
    return public({"tenant": slug, "team_id": team_id, "since": since, "until": until} | body)
