"""Router metrics, on the runtime's registry (``/metrics``).

``leads_processed_total`` is counted by servicekit's consumer (ok / duplicate /
dead-lettered); here: what the router decided, receipt → assignment latency, and the
open work queue (counted from the database when ``/metrics`` is scraped).
"""

from __future__ import annotations

from servicekit.metrics import ServiceMetrics
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_router.adapters.tables import work_items

#: Work-item states that still wait for a rep (``assigned`` is done).
OPEN_STATES = ("waiting", "claimed")


class RouterMetrics:
    def __init__(self, service: ServiceMetrics) -> None:
        self.service = service
        self.decisions = service.counter(
            "router_decisions_total",
            "Routing outcomes by path (pipeline, retry, manual, sla) and outcome "
            "(assigned, routing_failed, reassigned).",
            "path",
            "outcome",
        )
        self.work_queue = service.gauge(
            "router_work_queue_items",
            "Work-queue items without a rep, by status (waiting, claimed).",
            "status",
        )

    async def refresh_work_queue(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(work_items.c.status, func.count())
                    .where(work_items.c.status.in_(OPEN_STATES))
                    .group_by(work_items.c.status)
                )
            ).all()
        counts = {str(status): int(n) for status, n in rows}
        for status in OPEN_STATES:
            self.work_queue.labels(status).set(counts.get(status, 0))

    def decided(self, path: str, outcome: str) -> None:
        self.decisions.labels(path, outcome).inc()

    def assigned_after(self, seconds: float) -> None:
        self.service.stage_latency.labels(self.service.service, "lead.assigned").observe(
            max(0.0, seconds)
        )
