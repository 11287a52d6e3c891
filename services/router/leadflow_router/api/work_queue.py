"""The work queue: list (viewers), claim and assign (managers; the use cases are
``handlers.manage_queue``)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key, Name
from servicekit.openapi import problems

from leadflow_router.adapters import operations
from leadflow_router.api.context import public, router_context
from leadflow_router.api.models import AssignIn
from leadflow_router.handlers import manage_queue

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


@router.post(
    "/v1/work-queue/{item_id}:claim",
    responses=problems(s409="Assigned, or claimed by someone else."),
)
async def claim_item(item_id: uuid.UUID, request: Request, principal: Principal = MANAGER) -> Any:
    ctx = router_context(request)
    row = await manage_queue.claim_item(
        ctx.runtime,
        actor=principal.sub,
        can_see=principal.can_see,
        item_id=item_id,
        now=ctx.clock(),
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
    assignment = await manage_queue.assign_manually(
        ctx.runtime,
        ctx.deps,
        actor=principal.sub,
        can_see=principal.can_see,
        item_id=item_id,
        rep_id=body.rep_id,
        now=ctx.clock(),
    )
    return {"work_item_id": str(item_id), "assignment": assignment}
