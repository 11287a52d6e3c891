"""What the routes need, built once by ``create_app`` and kept on ``app.state.ingest``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from servicekit.runtime import Runtime

from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.adapters.webhook_store import SecretUse
from leadflow_ingest.handlers.accept_webhook import WebhookAcceptor
from leadflow_ingest.handlers.secrets import SourceSecrets
from leadflow_ingest.metrics import IngestMetrics
from leadflow_ingest.settings import Settings


@dataclass
class IngestContext:
    settings: Settings
    runtime: Runtime
    tenants: TenantConfigCache
    acceptor: WebhookAcceptor
    metrics: IngestMetrics
    box: SecretBox
    clock: Callable[[], datetime]
    secret_use: SecretUse
    secrets: SourceSecrets


def ingest_context(request: Request) -> IngestContext:
    ctx: Any = request.app.state.ingest
    assert isinstance(ctx, IngestContext)
    return ctx
