"""A hot route (``create_http_app(hot_routes=…)``) answers exactly as the same route
through FastAPI's routing does — success, problems, an outage, a bug — and is timed by
its route template; an endpoint it could not serve faithfully is refused at build time."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from servicekit.http import create_http_app
from servicekit.problems import ProblemError
from servicekit.runtime import Runtime

PATH = "/v1/probes/{tenant}/{name}"


def _app(runtime: Runtime, *, hot: bool, served: list[bool]) -> FastAPI:
    router = APIRouter()

    @router.post(PATH, status_code=202)
    async def probe(tenant: str, name: str, request: Request) -> JSONResponse:
        # FastAPI's request handler leaves its exit stack in the scope; the hot path not.
        served.append("fastapi_inner_astack" not in request.scope)
        body = await request.body()
        if name == "missing":
            raise ProblemError(404, "not-found", "Not found", f"no probe {name!r}")
        if name == "outage":
            raise psycopg.OperationalError("connection refused")  # the client's: no sqlstate
        if name == "bug":
            raise ZeroDivisionError("a bug")
        return JSONResponse(
            {"tenant": tenant, "name": name, "path": request.url.path, "size": len(body)},
            status_code=202,
        )

    return create_http_app(
        runtime, title="probe", routers=[router], hot_routes=[("POST", PATH)] if hot else ()
    )


async def _answers(app: FastAPI) -> list[tuple[int, str, str, bytes]]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        answers = []
        for method, path in [
            ("POST", "/v1/probes/acme/a%20b"),
            ("POST", "/v1/probes/acme/missing"),
            ("POST", "/v1/probes/acme/outage"),
            ("POST", "/v1/probes/acme/bug"),
            ("GET", "/v1/probes/acme/a"),  # not served hot: the router's 405
            ("POST", "/v1/probes/acme"),  # no match: the router's 404
        ]:
            r = await client.request(method, path, content=b'{"x": 1}')
            answers.append(
                (
                    r.status_code,
                    r.headers.get("content-type", ""),
                    r.headers.get("retry-after", ""),
                    r.content,
                )
            )
        return answers


async def test_a_hot_route_answers_as_the_routed_one(runtime: Runtime) -> None:
    routed: list[bool] = []
    hot: list[bool] = []
    expected = await _answers(_app(runtime, hot=False, served=routed))
    assert await _answers(_app(runtime, hot=True, served=hot)) == expected
    assert routed == [False] * 4
    assert hot == [True] * 4
    statuses = [status for status, *_ in expected]
    assert statuses == [202, 404, 503, 500, 405, 404]
    assert b'"name":"a b"' in expected[0][3]
    assert expected[1][1] == "application/problem+json"
    assert expected[2][2] != ""  # an outage says when to come back

    def observed(status: str) -> float | None:
        return runtime.metrics.registry.get_sample_value(
            "http_request_duration_seconds_count",
            {"service": "kit-test", "method": "POST", "route": PATH, "status": status},
        )

    # Both apps share the runtime's registry: each answer counted once per app.
    assert [observed(s) for s in ("202", "404", "503", "500")] == [2, 2, 2, 2]


async def test_an_endpoint_the_hot_path_cannot_serve_is_refused(runtime: Runtime) -> None:
    router = APIRouter()

    @router.post("/v1/search/{tenant}")
    async def search(tenant: str, request: Request, q: str = "") -> None:
        return None

    with pytest.raises(ValueError, match="only str path parameters"):
        create_http_app(
            runtime, title="x", routers=[router], hot_routes=[("POST", "/v1/search/{tenant}")]
        )
    with pytest.raises(ValueError, match="no such route"):
        create_http_app(runtime, title="x", routers=[router], hot_routes=[("PUT", "/nowhere")])
