"""Composition root of the dlq service: every I/O dependency is wired here."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.http import create_http_app
from servicekit.runtime import Runtime

from leadflow_dlq.api import routes
from leadflow_dlq.handlers.capture_dead_letter import CaptureDeadLetters
from leadflow_dlq.handlers.operate import DeadLetterOps
from leadflow_dlq.metrics import DlqMetrics
from leadflow_dlq.settings import Settings


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime.build(settings)
    metrics = DlqMetrics(runtime.metrics)
    CaptureDeadLetters(runtime, metrics, settings).subscribe(settings)

    async def depth_from_database() -> None:
        await metrics.refresh_depth(runtime.sessions)

    app = create_http_app(
        runtime,
        title="Leadflow dlq",
        routers=[routes.router],
        on_startup=[depth_from_database],
        jwt_secret=settings.jwt_secret(),
    )
    app.state.dead_letter_ops = DeadLetterOps(runtime, metrics)
    app.state.dlq_metrics = metrics
    return app
