"""The OpenAPI document lists what the shared machinery answers, as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from servicekit.auth import Principal, Role, require
from servicekit.inputs import Key
from servicekit.openapi import document_problems, problems

MANAGER = require(Role.manager)


def _document() -> dict[str, Any]:
    router = APIRouter()

    @router.post("/v1/things/{slug}", responses=problems(s409="The thing exists already."))
    async def create(slug: Key, principal: Principal = MANAGER) -> None:
        return None

    @router.get("/v1/open")
    async def open_route() -> None:
        return None

    app = FastAPI()
    app.include_router(router)
    document_problems(app)
    return app.openapi()


def test_every_error_is_a_problem_and_generic_statuses_are_listed() -> None:
    document = _document()
    create = document["paths"]["/v1/things/{slug}"]["post"]["responses"]
    # 400: a request line the HTTP server refuses (a path parameter it cannot parse)
    assert set(create) == {"200", "400", "401", "403", "404", "409", "422", "503"}
    for status in ("401", "403", "404", "409", "422", "503"):
        content = create[status]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    assert create["409"]["description"] == "The thing exists already."
    assert set(document["paths"]["/v1/open"]["get"]["responses"]) == {"200", "503"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
