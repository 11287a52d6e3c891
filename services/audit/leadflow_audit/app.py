"""Composition root of the audit service: every I/O dependency is wired here."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.http import create_http_app
from servicekit.runtime import Runtime

from leadflow_audit.adapters.queries import AuditQueries
from leadflow_audit.adapters.roles import act_as
from leadflow_audit.adapters.store import EventStore
from leadflow_audit.api.routes import router
from leadflow_audit.handlers.consume_events import AuditConsumer
from leadflow_audit.metrics import ChainWatch
from leadflow_audit.settings import Settings


def build_runtime(settings: Settings) -> Runtime:
    """The runtime, with every database connection acting as the writer role."""
    runtime = Runtime.build(settings)
    if settings.db_role:
        act_as(runtime.engine, settings.db_role)
    return runtime


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or build_runtime(settings)
    store = EventStore(runtime.sessions)
    AuditConsumer(runtime, store).subscribe(settings)
    watch = ChainWatch(runtime.metrics, store, settings.audit_verify_interval_s)

    async def start_watch() -> None:
        if settings.audit_verify_interval_s > 0:
            runtime.spawn(watch.run())

    app = create_http_app(
        runtime,
        title="Leadflow audit",
        routers=[router],
        on_startup=[start_watch],
        jwt_secret=settings.jwt_secret(),
    )
    app.state.event_store = store
    app.state.chain_watch = watch
    app.state.audit_queries = AuditQueries(runtime.sessions)
    return app
