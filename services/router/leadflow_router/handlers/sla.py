"""The SLA timer: an open (unacknowledged) assignment past ``sla_due_at`` is breached
and handed to another rep — never one who already had this lead — or, if nobody is
eligible, to the work queue.

State lives in the database, so a restart loses nothing: the next tick of any replica
finds the overdue rows. Each breach is one transaction that locks the assignment with
``FOR UPDATE SKIP LOCKED`` (replicas never double-handle) and stages its events in the
outbox: ``lead.sla_breached`` (caused by the breached ``lead.assigned``), then
``lead.reassigned`` or ``lead.routing_failed`` (caused by the breach). Their ids derive
from the breached assignment, so a retried transaction re-creates the same ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts import derived_event_id
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import LEAD_REASSIGNED, LEAD_ROUTING_FAILED, LEAD_SLA_BREACHED
from servicekit.events import Outgoing
from servicekit.outbox import stage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters import timers
from leadflow_router.adapters.records import wake_work_items
from leadflow_router.domain.ids import work_item_id_for
from leadflow_router.handlers import events
from leadflow_router.handlers.decide import decide
from leadflow_router.handlers.outcome import RoutingDeps, record_decision
from leadflow_router.handlers.ticking import tick_forever

Row = dict[str, Any]


async def breach(
    session: AsyncSession, deps: RoutingDeps, row: Row, at: datetime
) -> list[Outgoing]:
    """Breach one locked, overdue assignment and re-route its lead."""
    await timers.mark_breached(session, row["assignment_id"], at)
    await wake_work_items(session, row["tenant"], [row["team_id"]], at)  # a slot came free
    earlier = await timers.breached_reps(session, row["lead_id"])
    excluded = sorted(earlier | {row["rep_id"]})
    lead = Lead.model_validate(row["lead"])
    decision = await decide(session, lead, row["score"], at=at, exclude=excluded, lock=True)
    source = row["assignment_id"]
    breached_id = derived_event_id(source, LEAD_SLA_BREACHED.event_type)
    spec = LEAD_REASSIGNED if decision.assigned else LEAD_ROUTING_FAILED
    event_id = derived_event_id(source, spec.event_type)
    recorded = await record_decision(
        session,
        deps,
        decision,
        lead,
        row["score"],
        at=at,
        sequence=row["sequence"] + 1,
        correlation_id=row["correlation_id"],
        event_id=event_id,
        item_id=work_item_id_for(source),
        excluded=excluded,
        previous_assignment_id=source,
    )
    outputs = [
        events.uncaused(
            LEAD_SLA_BREACHED,
            events.sla_breached(row, at),
            producer=deps.producer,
            event_id=breached_id,
            row=row,
            causation_id=row["event_id"],
        )
    ]
    deps.metrics.decided("sla", "reassigned" if recorded.assignment else "routing_failed")
    if recorded.assignment is not None:
        payload: Any = events.reassigned(row, recorded.assignment)
    elif recorded.work_item is not None:
        payload = events.routing_failed(recorded.work_item)
    else:
        return outputs
    outputs.append(
        events.uncaused(
            spec,
            payload,
            producer=deps.producer,
            event_id=event_id,
            row=row,
            causation_id=breached_id,
        )
    )
    return outputs


@dataclass
class SlaTimer:
    runtime: Runtime
    deps: RoutingDeps
    clock: Callable[[], datetime]
    interval_s: float
    batch_size: int

    async def tick(self) -> int:
        """Breach every overdue open assignment; returns how many were breached."""
        breached = 0
        for _ in range(self.batch_size):
            async with self.runtime.sessions() as session, session.begin():
                now = self.clock()
                row = await timers.next_overdue_assignment(session, now)
                if row is None:
                    break
                await stage(session, *await breach(session, self.deps, row, now))
                breached += 1
        if breached:
            await self.runtime.outbox.flush()
        return breached

    async def run(self) -> None:
        await tick_forever(self.tick, self._wait, "SLA tick failed; will retry")

    async def _wait(self) -> None:
        await asyncio.sleep(self.interval_s)
