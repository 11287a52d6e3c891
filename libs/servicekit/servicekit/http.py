"""The HTTP side every service shares: lifespan, /healthz, /readyz, /metrics, errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from servicekit.problems import install_problem_handlers
from servicekit.runtime import Runtime

Hook = Callable[[], Awaitable[None]]


def create_http_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    jwt_secret: str | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        for hook in on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook()
            await runtime.stop()

    app = FastAPI(title=title, version=runtime.settings.service_version, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.jwt_secret = jwt_secret
    install_problem_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.middleware("http")
    async def observe_latency(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        runtime.metrics.http_latency.labels(
            runtime.metrics.service, request.method, path, str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response

    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=runtime.tracer_provider, excluded_urls="healthz,readyz,metrics"
    )
    return app
