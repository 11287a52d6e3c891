"""Composition root of the scoring service: every I/O dependency is wired here."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.http import Clock, composition_root, create_http_app
from servicekit.runtime import Runtime

from leadflow_scoring.api import scoring
from leadflow_scoring.handlers.consume_created import CreatedConsumer
from leadflow_scoring.metrics import ScoringMetrics
from leadflow_scoring.settings import Settings


@composition_root
def create_app(settings: Settings, runtime: Runtime, clock: Clock) -> FastAPI:
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
