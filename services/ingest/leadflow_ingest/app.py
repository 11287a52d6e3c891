"""Composition root of the ingest service: every I/O dependency is wired here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from leadflow_contracts import utcnow
from leadflow_contracts.topics import LEAD_RECEIVED
from servicekit.http import create_http_app
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.adapters.webhook_store import SecretUse, UsageCounters
from leadflow_ingest.api import leads, secrets, tenants, tiers, webhooks
from leadflow_ingest.api.context import IngestContext
from leadflow_ingest.domain.quota import windows
from leadflow_ingest.handlers.accept_webhook import WebhookAcceptor
from leadflow_ingest.handlers.ingest_lead import IngestLead
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


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """``clock`` is injectable so tests can move time (rotation grace, tolerance)."""
    runtime = runtime or Runtime.build(settings)
    box = SecretBox(settings.encryption_keys())
    tenant_cache = TenantConfigCache(runtime.sessions, box, settings.config_cache_ttl_s)
    usage = UsageCounters(runtime.sessions)
    context = IngestContext(
        settings=settings,
        runtime=runtime,
        tenants=tenant_cache,
        acceptor=WebhookAcceptor(
            runtime.sessions,
            runtime.publisher,
            usage,
            runtime.producer,
            settings.broker_ack_timeout_s,
        ),
        metrics=IngestMetrics(runtime.metrics.registry),
        box=box,
        clock=clock,
        secret_use=SecretUse(runtime.sessions),
    )
    runtime.consume(
        LEAD_RECEIVED,
        settings.worker_group,
        IngestLead(
            inbox=runtime.inbox(settings.worker_group),
            tenants=tenant_cache,
            producer=runtime.producer,
            metrics=runtime.metrics,
            duplicate_window_days=settings.duplicate_window_days,
            clock=clock,
        ),
    )

    async def start_pruning() -> None:
        runtime.spawn(_prune_usage(usage, clock))

    app = create_http_app(
        runtime,
        title="Leadflow ingest",
        routers=[webhooks.router, tiers.router, tenants.router, secrets.router, leads.router],
        on_startup=[start_pruning],
        jwt_secret=settings.jwt_secret(),
    )
    app.state.ingest = context
    return app
