"""Assignments: list, acknowledge (stops the SLA clock), close (frees capacity), and the
per-rep load report managers use to check that rotation is fair."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key, Name
from servicekit.openapi import problems

from leadflow_router.adapters import admin, operations
from leadflow_router.adapters.state import open_counts
from leadflow_router.api.context import public, router_context
from leadflow_router.handlers.assignments import Target, answer_assignment

router = APIRouter(tags=["assignments"])
OPERATOR, VIEWER = require(Role.operator), require(Role.viewer)


def _public(row: Any) -> Any:
    return public({k: v for k, v in dict(row).items() if k not in ("lead", "event_id")})


@router.get("/v1/tenants/{slug}/assignments")
async def list_assignments(
    slug: Key,
    request: Request,
    lead_id: uuid.UUID | None = None,
    rep_id: Name | None = None,
    status: Name | None = None,
    principal: Principal = VIEWER,
) -> Any:
    """Newest first (a lead's reassignments in reverse order)."""
    principal.require_tenant(slug)
    async with router_context(request).runtime.sessions() as session:
        rows = await operations.list_assignments(
            session, slug, lead_id=lead_id, rep_id=rep_id, status=status
        )
    return [_public(r) for r in rows]


async def _answer(
    request: Request, principal: Principal, assignment_id: uuid.UUID, target: Target
) -> Any:
    ctx = router_context(request)
    row = await answer_assignment(
        ctx.runtime,
        actor=principal.sub,
        can_see=principal.can_see,
        assignment_id=assignment_id,
        target=target,
        now=ctx.clock(),
    )
    if target == "closed":
        ctx.work_queue.poke()
    return _public(row)


@router.post(
    "/v1/assignments/{assignment_id}/ack",
    responses=problems(s409="The assignment is no longer open."),
)
async def ack(assignment_id: uuid.UUID, request: Request, principal: Principal = OPERATOR) -> Any:
    """The rep took the lead: the SLA no longer applies. Idempotent; 409 once breached."""
    return await _answer(request, principal, assignment_id, "acked")


@router.post(
    "/v1/assignments/{assignment_id}/close",
    responses=problems(s409="The assignment is no longer open."),
)
async def close(assignment_id: uuid.UUID, request: Request, principal: Principal = OPERATOR) -> Any:
    """The rep is done with the lead: it stops counting against their capacity."""
    return await _answer(request, principal, assignment_id, "closed")


@router.get("/v1/tenants/{slug}/reps:load")
async def rep_load(
    slug: Key,
    request: Request,
    since: datetime | None = None,
    until: datetime | None = None,
    principal: Principal = VIEWER,
) -> Any:
    """Per rep: assignments decided in [since, until) (default: the last 7 days), their
    share of the period's total next to the rep's weight share, and open load now."""
    principal.require_tenant(slug)
    ctx = router_context(request)
    until = until or ctx.clock()
    since = since or until - timedelta(days=7)
    async with ctx.runtime.sessions() as session:
        reps = await admin.list_reps(session, slug)
        counted = await operations.assignments_per_rep(session, slug, since, until)
        loads = await open_counts(session, [(slug, r["rep_id"]) for r in reps])
    total = sum(counted.values())
    weights = sum(r["weight"] for r in reps if r["active"]) or 1
    return {
        "since": since,
        "until": until,
        "total_assignments": total,
        "reps": [
            {
                "rep_id": r["rep_id"],
                "name": r["name"],
                "team_ids": r["team_ids"],
                "weight": r["weight"],
                "weight_share": round(r["weight"] / weights, 4) if r["active"] else 0.0,
                "assignments": counted.get(r["rep_id"], 0),
                "share": round(counted.get(r["rep_id"], 0) / total, 4) if total else 0.0,
                "open_assignments": loads.get((slug, r["rep_id"]), 0),
                "capacity": r["capacity"],
                "presence": r["presence"],
                "active": r["active"],
            }
            for r in reps
        ],
    }
