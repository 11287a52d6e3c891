"""The ``lead.qualified`` consumer: batches of records, one transaction per batch.

With the team row locked per lead, one transaction per record caps the router at a few
dozen leads/s; ``servicekit.batch.BatchConsumer`` hands ``route_batch`` whole batches
instead (delivery, retry, one-by-one fallback, dead-lettering and per-lead tracing are
described there). ``route_batch`` decides a batch exactly as one-by-one routing in batch
order would, which the fallback relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from leadflow_contracts.topics import LEAD_QUALIFIED
from servicekit.batch import BatchConsumer, BatchItem
from servicekit.consumer import parse_lead_envelope
from servicekit.runtime import Runtime

from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.route_batch import Handled, route_batch


class QualifiedConsumer(BatchConsumer[Handled]):
    def __init__(
        self, runtime: Runtime, deps: RoutingDeps, clock: Callable[[], datetime], group: str
    ) -> None:
        def observe(item: BatchItem, done: Handled) -> None:
            if done.outcome in ("assigned", "routing_failed"):
                deps.metrics.decided("pipeline", done.outcome)
            if done.assigned_after_s is not None:
                deps.metrics.assigned_after(done.assigned_after_s)

        super().__init__(
            runtime,
            LEAD_QUALIFIED,
            group,
            lambda session, envelopes: route_batch(session, deps, envelopes, clock),
            parse=parse_lead_envelope(LEAD_QUALIFIED),
            observe=observe,
        )
