"""The shared HTTP app: one server span per request, a latency histogram per route, and the
gauges asked at scrape time."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from servicekit.http import create_http_app
from servicekit.outbox import outbox_table
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


async def test_metrics_scrape_asks_readiness_outbox_backlog_and_hooks(runtime: Runtime) -> None:
    """What dashboards and alerts read: set when /metrics is scraped, not on a timer."""
    await runtime.broker.start()
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            outbox_table.insert(), [{"record": {"unpublished": n}} for n in (1, 2)]
        )
    scrapes: list[int] = []

    async def hook() -> None:
        scrapes.append(1)

    runtime.on_scrape(hook)
    app = create_http_app(runtime, title="probe")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://probe"
    ) as client:
        text = (await client.get("/metrics")).text

    def sample(name: str, **labels: str) -> float | None:
        return runtime.metrics.registry.get_sample_value(name, {"service": "kit-test", **labels})

    assert sample("service_ready", check="broker") == 1
    assert sample("service_ready", check="database") == 1
    assert sample("outbox_pending_records") == 2
    assert 'outbox_pending_records{service="kit-test"} 2.0' in text
    assert scrapes == [1]
