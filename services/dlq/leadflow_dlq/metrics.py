"""DLQ metrics: records received, and the pending depth (from the database).

The depth gauge is recomputed from ``dead_letters`` at start-up and after every change
(capture, replay, discard), so it is right after a restart and with several replicas
(each one reports the whole table's depth; alert on ``max``, not ``sum``).
"""

from __future__ import annotations

import asyncio

from leadflow_contracts import REGISTRY
from servicekit.metrics import ServiceMetrics
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_dlq.adapters import store


class DlqMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        self.received = metrics.counter(
            "dlq_records_total",
            "Dead-letter records stored (first time only), by original topic and exception.",
            "original_topic",
            "exception_class",
        )
        self.pending = metrics.gauge(
            "dlq_pending_records",
            "Dead-letter records waiting for an operator (status pending), by original topic.",
            "original_topic",
        )
        self._lock = asyncio.Lock()

    async def refresh_depth(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Serialized, so the last refresh to finish is the last one started."""
        async with self._lock, sessions() as session:
            depth = await store.pending_depth(session)
        # No await between clear and set: a scrape never sees a half-updated gauge.
        # Every registry topic is reported, 0 included, so an empty DLQ is a series too.
        self.pending.clear()
        for topic in {spec.name for spec in REGISTRY} | depth.keys():
            self.pending.labels(topic).set(depth.get(topic, 0))
