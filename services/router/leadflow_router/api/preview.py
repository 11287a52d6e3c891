"""``route:preview``: the pipeline's decision for a posted lead, against the live state,
computed by ``handlers.decide`` — which ends in the same pure ``route_matched`` as the
batch consumer — and nothing is written or emitted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from servicekit.auth import Principal, Role, require
from servicekit.commands import Invalid
from servicekit.inputs import Key

from leadflow_router.adapters.convert import rules_of
from leadflow_router.api.context import public, router_context
from leadflow_router.api.models import PreviewIn
from leadflow_router.domain.sla import sla_due_at
from leadflow_router.handlers.decide import decide

router = APIRouter(tags=["preview"])
VIEWER = require(Role.viewer)


@router.post("/v1/tenants/{slug}/route:preview")
async def preview(
    slug: Key, body: PreviewIn, request: Request, principal: Principal = VIEWER
) -> Any:
    principal.require_tenant(slug)
    if body.lead.tenant_id != slug:
        raise Invalid(
            f"lead.tenant_id must be {slug!r}.",
            title="Wrong tenant",
            field="body.lead.tenant_id",
            message="does not match the path",
        )
    ctx = router_context(request)
    at = ctx.clock()
    draft = None
    if body.rules is not None:
        stored = [r.model_dump(mode="json") for r in body.rules.rules]
        draft = rules_of(0, stored, body.rules.default_team)
    async with ctx.runtime.sessions() as session:
        decision = await decide(session, body.lead, body.total, at=at, lock=False, draft=draft)
    return public(
        {
            "assigned": decision.assigned,
            "team_id": decision.team_id,
            "rule_id": decision.rule_id,
            "rules_version": "draft" if draft is not None else decision.rules_version,
            "rep_id": decision.rep_id,
            "strategy": decision.strategy,
            "failure": decision.failure,
            "detail": decision.detail,
            "candidates": [c.model_dump(mode="json") for c in decision.candidates],
            "decided_at": at,
            "sla_due_at": sla_due_at(body.lead, at, ctx.settings.default_sla_minutes)
            if decision.assigned
            else None,
        }
    )
