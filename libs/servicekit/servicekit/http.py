"""The HTTP side every service shares: lifespan, /healthz, /readyz, /metrics, errors."""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from leadflow_contracts.envelope import utcnow
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit import ops_api
from servicekit.data_errors import install_input_backstop
from servicekit.openapi import document_problems
from servicekit.problems import install_problem_handlers
from servicekit.runtime import Runtime
from servicekit.settings import ServiceSettings
from servicekit.telemetry import records_spans, unrecorded_span

Hook = Callable[[], Awaitable[None]]
ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]
Clock = Callable[[], datetime]
S = TypeVar("S", bound=ServiceSettings)
S_contra = TypeVar("S_contra", bound=ServiceSettings, contravariant=True)


class AppFactory(Protocol[S_contra]):
    """A service's ``create_app``: what ``python -m leadflow_<name> serve`` and the tests call."""

    def __call__(
        self, settings: S_contra, *, runtime: Runtime | None = None, clock: Clock = utcnow
    ) -> FastAPI: ...


def composition_root(wire: Callable[[S, Runtime, Clock], FastAPI]) -> AppFactory[S]:
    """Make ``wire`` (a service's composition root) its ``create_app``: it is given the
    runtime a test passes (else one built from the settings) and the clock (injectable, so
    tests can move time)."""

    def create_app(
        settings: S, *, runtime: Runtime | None = None, clock: Clock = utcnow
    ) -> FastAPI:
        return wire(settings, runtime or Runtime.build(settings), clock)

    return create_app


class _LatencyMiddleware:
    """Observes ``http_request_duration`` per method, route template and status.

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
    ``BaseHTTPMiddleware`` runs every request through an extra task group and a
    streamed response copy.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self._app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app raises before responding

        async def send_and_capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_capture)
        finally:
            metrics = self._runtime.metrics
            path = getattr(scope.get("route"), "path", "unmatched")
            metrics.http_latency.labels(
                metrics.service, scope["method"], path, str(status)
            ).observe(time.perf_counter() - started)


#: From a request to the ``traceparent`` its server span should continue, or None.
TraceSeed = Callable[[Scope], str | None]


class _TraceSeedMiddleware:
    """Gives a request without ``traceparent`` one chosen by the service, before the
    OpenTelemetry middleware starts the server span (see ``create_http_app``)."""

    def __init__(self, app: ASGIApp, seed: TraceSeed) -> None:
        self._app = app
        self._seed = seed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(k == b"traceparent" for k, _ in scope["headers"]):
            traceparent = self._seed(scope)
            if traceparent is not None:
                headers = [*scope["headers"], (b"traceparent", traceparent.encode())]
                scope = {**scope, "headers": headers}
        await self._app(scope, receive, send)


_CONTEXT_HEADERS = frozenset((b"traceparent", b"tracestate", b"baggage"))


class _TraceContextMiddleware:
    """In place of the OpenTelemetry middleware when the service records no spans
    (``servicekit.telemetry``): the request's ``traceparent`` becomes the current context
    (a request without one gets a new trace id), so what the endpoint publishes and logs
    carries that trace, without a server span's attributes being gathered for nothing."""

    def __init__(self, app: ASGIApp, ids: IdGenerator) -> None:
        self._app = app
        self._ids = ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        carrier = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope["headers"]
            if k in _CONTEXT_HEADERS
        }
        ctx = propagate.extract(carrier)
        span = unrecorded_span(trace.get_current_span(ctx).get_span_context(), self._ids)
        token = otel_context.attach(trace.set_span_in_context(span, ctx))
        try:
            await self._app(scope, receive, send)
        finally:
            otel_context.detach(token)


class _HotRoutes:
    """Serves a few routes straight from the middleware stack, past Starlette's exception
    middleware, routing and FastAPI's request handler (what they cost per request of the
    webhook route: bench/README.md). A hot route's endpoint takes only ``str`` path
    parameters and the ``Request`` and returns a ``Response``: it is matched as the
    router would (``Route.matches``), called with the same scope, and an exception it
    raises is answered by the app's handler for it, as ``ExceptionMiddleware`` would; one
    without a handler goes on up to Starlette's error middleware. The route stays in the
    app (OpenAPI, and any method the hot path does not serve)."""

    def __init__(self, app: ASGIApp, routes: Sequence[APIRoute], handlers: FastAPI) -> None:
        self._app = app
        self._routes = routes
        self._handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child, router=self._handlers.router)
                    await self._serve(route, Request(scope, receive), send)
                    return
        await self._app(scope, receive, send)

    async def _serve(self, route: APIRoute, request: Request, send: Send) -> None:
        try:
            response: Response = await route.endpoint(request=request, **request.path_params)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(request.scope, request.receive, send)

    def _handler(self, exc: Exception) -> ExceptionHandler | None:
        handlers = self._handlers.exception_handlers
        if isinstance(exc, StarletteHTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None  # Starlette's error middleware has that one
            if cls in handlers:
                return handlers[cls]
        return None


def _hot_routes(routers: Sequence[APIRouter], wanted: Sequence[tuple[str, str]]) -> list[APIRoute]:
    """The routers' routes for ``(method, path)``, checked to be servable by ``_HotRoutes``
    (routers are included as they are, without a prefix, so a route's path is its URL's)."""
    found: list[APIRoute] = []
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    for method, path in wanted:
        route = next((r for r in routes if r.path == path and method in (r.methods or ())), None)
        if route is None:
            raise ValueError(f"hot route {method} {path}: no such route")
        d = route.dependant
        plain = all(f.field_info.annotation is str for f in d.path_params)
        extras = d.query_params or d.header_params or d.cookie_params or d.body_params
        if not plain or extras or d.dependencies or d.request_param_name != "request":
            raise ValueError(
                f"hot route {method} {path}: its endpoint must take only str path "
                "parameters and `request: Request`"
            )
        found.append(route)
    return found


def _wrap_stack(app: FastAPI, outer: Callable[[ASGIApp], ASGIApp]) -> None:
    """Put ``outer`` around the whole middleware stack (outside Starlette's error
    middleware), as ``FastAPIInstrumentor`` places its own."""
    inner = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return outer(inner())

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def create_http_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    jwt_secret: str | None = None,
    trace_seed: TraceSeed | None = None,
    hot_routes: Sequence[tuple[str, str]] = (),
) -> FastAPI:
    """``trace_seed`` lets a service put requests into a trace of its choosing (ingest: a
    webhook's retries all continue the trace of the lead they create). ``hot_routes``
    (method, path template) are served past routing and FastAPI's request handling
    (``_HotRoutes``): for the one endpoint that carries the load."""

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
    install_problem_handlers(app, retry_after_s=runtime.settings.unavailable_retry_after_s)
    install_input_backstop(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "Not ready; see checks."}})
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        faults = runtime.health.faults()
        ready = all(checks.values()) and not faults
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks, "faults": faults},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        await runtime.refresh_metrics()
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(ops_api.router)
    for router in routers:
        app.include_router(router)
    if hot_routes:  # inside the latency middleware, which labels them by route as well
        app.add_middleware(_HotRoutes, routes=_hot_routes(routers, hot_routes), handlers=app)
    app.add_middleware(_LatencyMiddleware, runtime=runtime)
    document_problems(app)
    provider = runtime.tracer_provider
    if records_spans(provider):
        # One server span per request; the per-ASGI-message "http receive"/"http send"
        # child spans carried nothing a trace reader uses and cost CPU on every request.
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            excluded_urls="healthz,readyz,metrics",
            exclude_spans=["receive", "send"],
        )
    else:
        _wrap_stack(app, lambda inner: _TraceContextMiddleware(inner, provider.id_generator))
    if trace_seed is not None:  # outermost, so it runs before either of those
        seed = trace_seed
        _wrap_stack(app, lambda inner: _TraceSeedMiddleware(inner, seed))
    return app
