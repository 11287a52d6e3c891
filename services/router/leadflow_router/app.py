"""Composition root of the router service: every I/O dependency is wired here."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.http import Clock, composition_root, create_http_app
from servicekit.runtime import Runtime

from leadflow_router.api import assignments, insights, preview, reps, rules, teams, work_queue
from leadflow_router.api.context import RouterContext
from leadflow_router.handlers.consume_qualified import QualifiedConsumer
from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.sla import SlaTimer
from leadflow_router.handlers.work_queue import WorkQueueTimer
from leadflow_router.metrics import RouterMetrics
from leadflow_router.settings import Settings


@composition_root
def create_app(settings: Settings, runtime: Runtime, clock: Clock) -> FastAPI:
    """``clock`` is injectable so tests can move time (SLA expiry, working hours)."""
    metrics = RouterMetrics(runtime.metrics)
    runtime.on_scrape(lambda: metrics.refresh_work_queue(runtime.sessions))
    deps = RoutingDeps(
        producer=runtime.producer,
        default_sla_minutes=settings.default_sla_minutes,
        retry_backoff_s=settings.work_queue_retry_backoff_s,
        metrics=metrics,
    )
    queue = WorkQueueTimer(
        runtime, deps, clock, settings.work_queue_poll_interval_s, settings.timer_batch_size
    )
    sla = SlaTimer(runtime, deps, clock, settings.sla_check_interval_s, settings.timer_batch_size)
    QualifiedConsumer(runtime, deps, clock, settings.consumer_group).subscribe(settings)

    async def start_timers() -> None:
        runtime.spawn(queue.run())
        runtime.spawn(sla.run())

    app = create_http_app(
        runtime,
        title="Leadflow router",
        routers=[
            api.router for api in (teams, reps, rules, work_queue, assignments, preview, insights)
        ],
        on_startup=[start_timers],
        jwt_secret=settings.jwt_secret(),
    )
    app.state.router = RouterContext(settings, runtime, deps, clock, queue)
    return app
