"""Work-queue items leave the queue two ways: a manager assigns one, or the timer
routes it once a rep of its team is available again.

The timer polls the database (state survives restarts): each tick takes due items
oldest first, one per transaction, with ``FOR UPDATE SKIP LOCKED`` so router replicas
never handle the same item twice. An attempt that still finds nobody pushes the item
back by ``work_queue_retry_backoff_s``; presence, capacity and rule changes make the
items of the affected teams due at once (``wake_work_items``). Claimed items wait for
their manager. The new assignment is announced by ``lead.assigned`` whose id derives
from the item (``derived_event_id(item_id, "lead.assigned")``), caused by the item's
``lead.routing_failed``; it is staged in the outbox in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import derived_event_id
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import LEAD_ASSIGNED
from servicekit.events import Outgoing
from servicekit.outbox import stage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters import timers
from leadflow_router.adapters.records import next_sequence
from leadflow_router.domain.model import Decision
from leadflow_router.handlers import events
from leadflow_router.handlers.decide import decide
from leadflow_router.handlers.outcome import RoutingDeps, record_decision
from leadflow_router.handlers.ticking import tick_forever

Row = dict[str, Any]


async def assign_item(
    session: AsyncSession, deps: RoutingDeps, item: Row, decision: Decision, at: datetime
) -> Outgoing | None:
    """Turn a locked work item into the assignment ``decision`` chose (it names a rep); the
    event to stage, or None if the lead got an assignment some other way meanwhile."""
    lead = Lead.model_validate(item["lead"])
    sequence = await next_sequence(session, lead.lead_id)
    event_id = derived_event_id(item["item_id"], LEAD_ASSIGNED.event_type)
    recorded = await record_decision(
        session,
        deps,
        decision,
        lead,
        item["score"],
        at=at,
        sequence=sequence,
        correlation_id=item["correlation_id"],
        event_id=event_id,
        item_id=item["item_id"],
        previous_assignment_id=item["previous_assignment_id"],
        work_item_id=item["item_id"],
    )
    row = recorded.assignment
    if row is None:
        return None
    await timers.mark_item_assigned(session, item["item_id"], row["assignment_id"])
    return events.uncaused(
        LEAD_ASSIGNED,
        events.assigned(row),
        producer=deps.producer,
        event_id=event_id,
        row=row,
        causation_id=item["event_id"],
    )


async def attempt(
    session: AsyncSession, deps: RoutingDeps, item: Row, at: datetime
) -> Outgoing | None:
    """One automatic routing attempt of a locked, waiting item."""
    lead = Lead.model_validate(item["lead"])
    decision = await decide(
        session, lead, item["score"], at=at, exclude=item["excluded_reps"], lock=True
    )
    if decision.rep_id is not None and decision.team_id and decision.strategy:
        return await assign_item(session, deps, item, decision, at)
    await timers.postpone_item(
        session,
        item["item_id"],
        next_attempt_at=at + timedelta(seconds=deps.retry_backoff_s),
        reason=decision.failure or item["reason"],
        team_id=decision.team_id,
        candidates=[c.model_dump(mode="json") for c in decision.candidates],
    )
    return None


@dataclass
class WorkQueueTimer:
    runtime: Runtime
    deps: RoutingDeps
    clock: Callable[[], datetime]
    interval_s: float
    batch_size: int
    _poked: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        """Run the next tick now (a rep became available, capacity or rules changed)."""
        self._poked.set()

    async def tick(self) -> int:
        """Attempt every due item once, oldest first; returns how many were assigned."""
        routed = 0
        for _ in range(self.batch_size):
            async with self.runtime.sessions() as session, session.begin():
                now = self.clock()
                item = await timers.next_due_item(session, now)
                if item is None:
                    break
                outgoing = await attempt(session, self.deps, item, now)
                if outgoing is not None:
                    await stage(session, outgoing)
                    routed += 1
        if routed:
            self.deps.metrics.decisions.labels("retry", "assigned").inc(routed)
            await self.runtime.outbox.flush()
        return routed

    async def run(self) -> None:
        await tick_forever(self.tick, self._wait, "work-queue tick failed; will retry")

    async def _wait(self) -> None:
        """The interval, cut short by a ``poke`` made while it runs."""
        self._poked.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._poked.wait(), self.interval_s)
