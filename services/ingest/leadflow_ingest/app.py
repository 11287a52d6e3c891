"""Composition root of the ingest service: every I/O dependency is wired here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from servicekit.http import Clock, composition_root, create_http_app
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.adapters.webhook_ledger import WebhookLedger
from leadflow_ingest.adapters.webhook_store import SecretUse, UsageCounters
from leadflow_ingest.api import leads, secrets, tenants, tiers, webhooks
from leadflow_ingest.api import usage as usage_api
from leadflow_ingest.api.context import IngestContext
from leadflow_ingest.api.trace_seed import webhook_trace_seed
from leadflow_ingest.domain.quota import windows
from leadflow_ingest.handlers.accept_webhook import WebhookAcceptor
from leadflow_ingest.handlers.consume_received import ReceivedConsumer
from leadflow_ingest.handlers.secrets import SourceSecrets
from leadflow_ingest.metrics import IngestMetrics
from leadflow_ingest.settings import Settings

log = get_logger(__name__)


async def _prune_usage(usage: UsageCounters, clock: Callable[[], datetime]) -> None:
    """Minute counters older than an hour are never read again."""
    while True:
        try:
            await usage.prune(windows(clock() - timedelta(hours=1)).minute)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("usage pruning failed; will retry", error=type(exc).__name__)
        await asyncio.sleep(600)


@composition_root
def create_app(settings: Settings, runtime: Runtime, clock: Clock) -> FastAPI:
    """``clock`` is injectable so tests can move time (rotation grace, tolerance)."""
    box = SecretBox(settings.encryption_keys())
    tenant_cache = TenantConfigCache(runtime.sessions, box, settings.config_cache_ttl_s)
    usage = UsageCounters(runtime.sessions)
    metrics = IngestMetrics(runtime.metrics, tenant_labels=settings.metrics_tenant_labels)
    context = IngestContext(
        settings=settings,
        runtime=runtime,
        tenants=tenant_cache,
        acceptor=WebhookAcceptor(
            WebhookLedger(runtime.engine),
            runtime.publisher,
            usage,
            runtime.producer,
            settings.broker_ack_timeout_s,
            group_max=settings.webhook_group_max,
            groups_in_flight=settings.webhook_groups_in_flight,
            on_group=metrics.webhook_group,
        ),
        metrics=metrics,
        box=box,
        clock=clock,
        secret_use=SecretUse(runtime.sessions),
        secrets=SourceSecrets(runtime, box.seal, clock, tenant_cache.invalidate),
    )
    worker = ReceivedConsumer(runtime, settings, tenant_cache, clock)
    worker.subscribe(settings)

    async def start_pruning() -> None:
        runtime.spawn(_prune_usage(usage, clock))

    app = create_http_app(
        runtime,
        title="Leadflow ingest",
        routers=[api.router for api in (webhooks, tiers, tenants, usage_api, secrets, leads)],
        on_startup=[start_pruning],
        jwt_secret=settings.jwt_secret(),
        trace_seed=webhook_trace_seed,
        hot_routes=[("POST", webhooks.WEBHOOK_PATH)],
    )
    app.state.ingest = context
    app.state.worker = worker  # tests hand it batches as FastStream would
    return app
