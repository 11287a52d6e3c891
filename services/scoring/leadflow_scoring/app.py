"""Composition root of the scoring service: every I/O dependency is wired here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from leadflow_contracts import utcnow
from servicekit.http import create_http_app
from servicekit.runtime import Runtime

from leadflow_scoring.api import scoring
from leadflow_scoring.handlers.consume_created import CreatedConsumer
from leadflow_scoring.metrics import ScoringMetrics
from leadflow_scoring.settings import Settings


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    runtime = runtime or Runtime.build(settings)
    metrics = ScoringMetrics(runtime.metrics)
    consumer = CreatedConsumer(runtime, runtime.producer, metrics, clock, settings.consumer_group)
    consumer.subscribe(settings)
    app = create_http_app(
        runtime,
        title="Leadflow scoring",
        routers=[scoring.router],
        jwt_secret=settings.jwt_secret(),
    )
    app.state.consumer = consumer  # tests hand it batches as FastStream would
    return app
