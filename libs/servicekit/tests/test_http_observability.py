"""The shared HTTP app: one server span per request and a latency histogram per route."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from servicekit.http import create_http_app
from servicekit.problems import ProblemError
from servicekit.runtime import Runtime


async def test_requests_are_traced_once_and_timed_by_route_template(
    runtime: Runtime, spans: InMemorySpanExporter
) -> None:
    router = APIRouter()

    @router.get("/probe/{name}")
    async def probe(name: str) -> dict[str, str]:
        if name == "missing":
            raise ProblemError(404, "not-found", "Not found", "no such probe")
        return {"name": name}

    app = create_http_app(runtime, title="probe", routers=[router])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://probe"
    ) as client:
        assert (await client.get("/probe/a")).status_code == 200
        assert (await client.get("/probe/missing")).status_code == 404

    # Only the server spans: no per-ASGI-message "http send"/"http receive" children.
    finished = spans.get_finished_spans()
    assert [(s.kind, s.name) for s in finished] == [(SpanKind.SERVER, "GET /probe/{name}")] * 2

    def observed(status: str) -> float | None:
        return runtime.metrics.registry.get_sample_value(
            "http_request_duration_seconds_count",
            {"service": "kit-test", "method": "GET", "route": "/probe/{name}", "status": status},
        )

    assert observed("200") == 1
    assert observed("404") == 1
