"""Composition root of the scoring service: every I/O dependency is wired here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from leadflow_contracts import utcnow
from leadflow_contracts.topics import LEAD_CREATED
from servicekit.http import create_http_app
from servicekit.runtime import Runtime

from leadflow_scoring.api import scoring
from leadflow_scoring.handlers.score_lead import ScoreLead
from leadflow_scoring.metrics import ScoringMetrics
from leadflow_scoring.settings import Settings


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    runtime = runtime or Runtime.build(settings)
    runtime.consume(
        LEAD_CREATED,
        settings.consumer_group,
        ScoreLead(
            inbox=runtime.inbox(settings.consumer_group),
            producer=runtime.producer,
            metrics=ScoringMetrics(runtime.metrics),
            clock=clock,
        ),
    )
    return create_http_app(
        runtime,
        title="Leadflow scoring",
        routers=[scoring.router],
        jwt_secret=settings.jwt_secret(),
    )
