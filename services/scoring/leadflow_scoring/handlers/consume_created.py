"""The ``sales.lead.created`` consumer: batches of records, one transaction per batch.

One inbox transaction per record capped scoring at a few hundred leads/s, most of it
per-transaction overhead and re-validating the tenant's rule set for every lead;
``servicekit.batch.BatchConsumer`` hands ``score_batch`` whole batches instead. Delivery
(offsets committed only after the batch committed and every output was acknowledged),
retry, the one-by-one fallback, dead-lettering, per-lead spans (each lead's own
``traceparent``) and the per-lead debug log line are described there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from leadflow_contracts import Producer
from leadflow_contracts.topics import LEAD_CREATED
from servicekit.batch import BatchConsumer, BatchItem
from servicekit.consumer import parse_lead_envelope
from servicekit.runtime import Runtime

from leadflow_scoring.handlers.score_batch import Handled, score_batch
from leadflow_scoring.metrics import ScoringMetrics


class CreatedConsumer(BatchConsumer[Handled]):
    def __init__(
        self,
        runtime: Runtime,
        producer: Producer,
        metrics: ScoringMetrics,
        clock: Callable[[], datetime],
        group: str,
    ) -> None:
        def observe(item: BatchItem, done: Handled) -> None:
            if done.waited_s is not None:  # scored now, not a redelivery
                metrics.scored(qualified=done.outcome == "qualified", seconds=done.waited_s)

        super().__init__(
            runtime,
            LEAD_CREATED,
            group,
            lambda session, envelopes: score_batch(session, envelopes, producer, clock),
            observe=observe,
            parse=parse_lead_envelope(LEAD_CREATED),
        )
