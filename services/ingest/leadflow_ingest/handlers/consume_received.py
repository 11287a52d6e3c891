"""The ingest worker: the ``lead.received`` consumer, batches of records, one transaction
per batch (``ingest_batch``).

One transaction per batch keeps the worker's per-transaction overhead low while it shares
the process, and the core, with the webhook API. Delivery (offsets committed only after
the batch committed and every output was acknowledged), the inbox, retry, the one-by-one
fallback, dead-lettering, outages waited out, per-lead spans (each lead's own
``traceparent``) and the per-lead debug log line are ``servicekit.batch.BatchConsumer``'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import Envelope
from leadflow_contracts.topics import LEAD_RECEIVED
from servicekit.batch import BatchConsumer, BatchItem
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.handlers.ingest_batch import Handled, ingest_batch
from leadflow_ingest.settings import Settings

STAGE = "lead.created"


class ReceivedConsumer(BatchConsumer[Handled]):
    def __init__(
        self,
        runtime: Runtime,
        settings: Settings,
        tenants: TenantConfigCache,
        clock: Callable[[], datetime],
    ) -> None:
        group = settings.worker_group
        window = timedelta(days=settings.duplicate_window_days)

        async def handle(
            session: AsyncSession, envelopes: list[Envelope[Any]]
        ) -> Mapping[uuid.UUID, Handled]:
            return await ingest_batch(
                session,
                envelopes,
                tenants=tenants,
                producer=runtime.producer,
                duplicate_window=window,
                clock=clock,
            )

        metrics = runtime.metrics

        def observe(item: BatchItem, done: Handled) -> None:
            if done.waited_s is not None:  # created now, not a redelivery
                metrics.stage_latency.labels(metrics.service, STAGE).observe(done.waited_s)

        super().__init__(runtime, LEAD_RECEIVED, group, handle, observe=observe)
