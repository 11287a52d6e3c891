"""The work queue: list (viewers), claim and assign (managers).

Claiming marks an item as a manager's, so the automatic retry leaves it alone; assigning
creates the assignment with strategy ``manual`` and emits ``lead.assigned`` (outbox).
A rep who already missed this lead's SLA cannot be given it again.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from leadflow_contracts.routing import Candidate
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key, Name
from servicekit.openapi import problems
from servicekit.outbox import stage
from servicekit.problems import ProblemError

from leadflow_router.adapters import admin, operations
from leadflow_router.api.context import public, router_context, visible
from leadflow_router.api.models import AssignIn
from leadflow_router.handlers.work_queue import assign_item

router = APIRouter(tags=["work queue"])
MANAGER, VIEWER = require(Role.manager), require(Role.viewer)
Status = Literal["open", "waiting", "claimed", "assigned", "all"]
_STATUSES = {"open": ("waiting", "claimed"), "all": ("waiting", "claimed", "assigned")}


def _item(row: dict[str, Any]) -> Any:
    return public({k: v for k, v in row.items() if k != "event_id"})


@router.get("/v1/tenants/{slug}/work-queue")
async def list_items(
    slug: Key,
    request: Request,
    status: Status = "open",
    team_id: Name | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    principal: Principal = VIEWER,
) -> Any:
    """Oldest first. ``status=open`` (default) = waiting or claimed."""
    principal.require_tenant(slug)
    statuses = _STATUSES.get(status, (status,))
    async with router_context(request).runtime.sessions() as session:
        rows = await operations.list_work_items(
            session, slug, statuses, team_id=team_id, limit=limit
        )
    return [_item(r) for r in rows]


async def _locked(session: Any, principal: Principal, item_id: uuid.UUID) -> dict[str, Any]:
    row = await operations.lock_work_item(session, item_id)
    item: dict[str, Any] = dict(visible(principal, row, "work item", item_id))
    if item["status"] == "assigned":
        raise ProblemError(
            409, "conflict", "Already assigned", "This work item was already assigned."
        )
    return item


@router.post(
    "/v1/work-queue/{item_id}:claim",
    responses=problems(s409="Assigned, or claimed by someone else."),
)
async def claim_item(item_id: uuid.UUID, request: Request, principal: Principal = MANAGER) -> Any:
    ctx = router_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        item = await _locked(session, principal, item_id)
        if item["status"] == "claimed" and item["claimed_by"] != principal.sub:
            raise ProblemError(
                409, "conflict", "Already claimed", f"{item['claimed_by']} claimed this item."
            )
        row = await operations.update_work_item(
            session, item_id, status="claimed", claimed_by=principal.sub, claimed_at=ctx.clock()
        )
    return _item(row)


@router.post(
    "/v1/work-queue/{item_id}:assign",
    responses=problems(s409="Assigned, claimed by someone else, or the rep had the lead."),
)
async def assign(
    item_id: uuid.UUID, body: AssignIn, request: Request, principal: Principal = MANAGER
) -> Any:
    """Assign to ``rep_id`` (strategy ``manual``); unclaimed items are claimed on the way."""
    ctx = router_context(request)
    async with ctx.runtime.sessions() as session, session.begin():
        item = await _locked(session, principal, item_id)
        if item["status"] == "claimed" and item["claimed_by"] != principal.sub:
            raise ProblemError(
                409,
                "conflict",
                "Claimed by someone else",
                f"{item['claimed_by']} claimed this item.",
            )
        rep = await admin.get_rep(session, item["tenant"], body.rep_id)
        if rep is None:
            raise ProblemError(
                422,
                "validation-error",
                "Unknown rep",
                f"Tenant {item['tenant']!r} has no rep {body.rep_id!r}.",
                errors=[{"field": "body.rep_id", "message": "unknown rep"}],
            )
        if body.rep_id in item["excluded_reps"]:
            raise ProblemError(
                409,
                "conflict",
                "Rep already had this lead",
                f"{body.rep_id} missed this lead's SLA before; choose another rep.",
            )
        team_id = item["team_id"] or (rep["team_ids"][0] if rep["team_ids"] else None)
        if team_id is None:
            raise ProblemError(
                422, "validation-error", "Rep has no team", f"Put {body.rep_id!r} in a team first."
            )
        await operations.update_work_item(
            session, item_id, claimed_by=principal.sub, claimed_at=ctx.clock()
        )
        outgoing = await assign_item(
            session,
            ctx.deps,
            item,
            rep_id=body.rep_id,
            team_id=team_id,
            strategy="manual",
            candidates=[Candidate(rep_id=body.rep_id, detail=f"assigned by {principal.sub}")],
            rules_version=item["rules_version"],
            at=ctx.clock(),
        )
        if outgoing is None:
            raise ProblemError(
                409, "conflict", "Lead already assigned", "The lead was assigned meanwhile."
            )
        await stage(session, outgoing)
    ctx.deps.metrics.decided("manual", "assigned")
    await ctx.flush()
    return {"work_item_id": str(item_id), "assignment": outgoing.value["payload"]}
