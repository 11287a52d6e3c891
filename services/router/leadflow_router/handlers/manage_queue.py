"""Managers' work-queue use cases: claim an item, assign it by hand.

Claiming marks an item as a manager's, so the automatic retry leaves it alone; assigning
creates the assignment with strategy ``manual`` and stages ``lead.assigned`` in the same
transaction (outbox). A rep who already missed this lead's SLA cannot be given it again.
Each runs as one ``command``; a refusal is a ``Refused`` the API turns into a problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from leadflow_contracts.routing import Candidate
from servicekit.commands import Conflict, Invalid, command
from servicekit.outbox import stage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters import admin, operations
from leadflow_router.domain.model import Decision
from leadflow_router.handlers.configure import missing
from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.work_queue import assign_item

Row = dict[str, Any]
#: Whether the caller may see a tenant's data; an item of another tenant is "not found".
CanSee = Callable[[str], bool]


async def _open_item(session: AsyncSession, can_see: CanSee, item_id: uuid.UUID, actor: str) -> Row:
    """The locked item, unless it is gone, not the caller's, assigned or another's claim."""
    item = await operations.lock_work_item(session, item_id)
    if item is None or not can_see(item["tenant"]):
        raise missing("work item", item_id)
    if item["status"] == "assigned":
        raise Conflict("This work item was already assigned.", title="Already assigned")
    if item["status"] == "claimed" and item["claimed_by"] != actor:
        raise Conflict(f"{item['claimed_by']} claimed this item.", title="Already claimed")
    return item


async def claim_item(
    runtime: Runtime, *, actor: str, can_see: CanSee, item_id: uuid.UUID, now: datetime
) -> Row:
    async with command(runtime, actor=actor) as cmd:
        await _open_item(cmd.session, can_see, item_id, actor)
        return await operations.update_work_item(
            cmd.session, item_id, status="claimed", claimed_by=actor, claimed_at=now
        )


async def assign_manually(
    runtime: Runtime,
    deps: RoutingDeps,
    *,
    actor: str,
    can_see: CanSee,
    item_id: uuid.UUID,
    rep_id: str,
    now: datetime,
) -> Row:
    """Assign to ``rep_id`` (strategy ``manual``), claiming the item on the way; the new
    assignment's ``lead.assigned`` payload."""
    async with command(runtime, actor=actor) as cmd:
        item = await _open_item(cmd.session, can_see, item_id, actor)
        tenant = item["tenant"]
        rep = await admin.get_rep(cmd.session, tenant, rep_id)
        if rep is None:
            raise Invalid(
                f"Tenant {tenant!r} has no rep {rep_id!r}.",
                title="Unknown rep",
                field="body.rep_id",
                message="unknown rep",
            )
        if rep_id in item["excluded_reps"]:
            raise Conflict(
                f"{rep_id} missed this lead's SLA before; choose another rep.",
                title="Rep already had this lead",
            )
        team_id = item["team_id"] or (rep["team_ids"][0] if rep["team_ids"] else None)
        if team_id is None:
            raise Invalid(f"Put {rep_id!r} in a team first.", title="Rep has no team")
        await operations.update_work_item(cmd.session, item_id, claimed_by=actor, claimed_at=now)
        manual = Decision(
            rules_version=item["rules_version"],
            team_id=team_id,
            rule_id=None,
            candidates=(Candidate(rep_id=rep_id, detail=f"assigned by {actor}"),),
            rep_id=rep_id,
            strategy="manual",
        )
        outgoing = await assign_item(cmd.session, deps, item, manual, now)
        if outgoing is None:
            raise Conflict("The lead was assigned meanwhile.", title="Lead already assigned")
        await stage(cmd.session, outgoing)
    deps.metrics.decided("manual", "assigned")
    payload: Row = outgoing.value["payload"]
    return payload
