"""A rep's answer to an assignment: ack (the SLA stops) or close (capacity frees up).

Both are idempotent: asking for the state the assignment is already in returns it
unchanged. Closing makes the team's waiting work items due at once (same transaction);
the caller then pokes the work-queue timer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from servicekit.commands import Conflict, command
from servicekit.runtime import Runtime

from leadflow_router.adapters import operations
from leadflow_router.adapters.records import wake_work_items
from leadflow_router.adapters.state import OPEN
from leadflow_router.handlers.configure import missing
from leadflow_router.handlers.manage_queue import CanSee

Row = dict[str, Any]
Target = Literal["acked", "closed"]


async def answer_assignment(
    runtime: Runtime,
    *,
    actor: str,
    can_see: CanSee,
    assignment_id: uuid.UUID,
    target: Target,
    now: datetime,
) -> Row:
    ack = target == "acked"
    async with command(runtime, actor=actor) as cmd:
        row = await operations.lock_assignment(cmd.session, assignment_id)
        if row is None or not can_see(row["tenant"]):
            raise missing("assignment", assignment_id)
        if row["status"] == target or (ack and row["status"] == "closed" and row["acked_at"]):
            return row
        if row["status"] not in OPEN or (ack and row["status"] != "open"):
            raise Conflict(
                f"Assignment {assignment_id} is {row['status']}; see the lead's latest assignment.",
                title="Assignment is no longer open",
            )
        stamp = {"acked_at": now} if ack else {"ended_at": now}
        row = await operations.update_assignment(cmd.session, assignment_id, status=target, **stamp)
        if not ack:
            await wake_work_items(cmd.session, row["tenant"], [row["team_id"]], now)
    return row
