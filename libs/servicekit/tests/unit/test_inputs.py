"""The shared input layer: what PostgreSQL and the pipeline cannot carry is a 422 naming
the field, in bodies, path and query parameters alike."""

from __future__ import annotations

import json
from typing import Annotated, Any

import orjson
import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from servicekit.inputs import (
    INT4_MAX,
    MAX_JSON_DEPTH,
    Body,
    Int4,
    JsonObject,
    Key,
    json_problem,
)
from servicekit.problems import install_problem_handlers


class Inner(Body):
    tags: list[Key] = []


class Thing(Body):
    name: Key
    inner: Inner = Inner()
    features: JsonObject = {}


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things/{slug}")
    def create(
        slug: Key,
        body: Thing,
        count: Annotated[Int4 | None, Query()] = None,
    ) -> dict[str, Any]:
        return {"slug": slug, "name": body.name}

    return app


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("url", "body", "field", "message"),
    [
        ("/things/a%00b", {"name": "x"}, "path.slug", "NUL"),
        ("/things/a?count=2147483648", {"name": "x"}, "query.count", "less than or equal"),
        ("/things/a?count=-2147483649", {"name": "x"}, "query.count", "greater than"),
        ("/things/a", {"name": "x\u0000"}, "body.name", "NUL"),
        ("/things/a", {"name": "\ud800"}, "body.name", "lone surrogate"),
        (
            "/things/a",
            {"name": "x", "inner": {"tags": ["ok", "b\u0000"]}},
            "body.inner.tags.1",
            "NUL",
        ),
        ("/things/a", {"name": "x", "features": {"n": 2**64}}, "body.features.n", "64 bits"),
        ("/things/a", {"name": "x", "features": {"k\u0000": 1}}, "body.features.k\u0000", "key"),
        ("/things/a", {"name": "x", "features": {"f": 1e19}}, "body.features.f", "9.2e18"),
        (
            "/things/a",
            {"name": "x", "features": _nested(MAX_JSON_DEPTH + 1)},
            "body.features",
            "deeper",
        ),
    ],
)
def test_refusals_name_the_field(url: str, body: Any, field: str, message: str) -> None:
    with TestClient(_app()) as client:
        response = client.post(
            url, content=json.dumps(body), headers={"content-type": "application/json"}
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert any(e["field"].startswith(field) and message in e["message"] for e in errors), errors
    assert all(set(e) == {"field", "message"} for e in errors)  # the input is not echoed


def test_values_at_the_limits_are_accepted() -> None:
    body = {"name": "x", "features": {"n": 2**63 - 1, "m": -(2**63), "deep": _nested(20)}}
    with TestClient(_app()) as client:
        response = client.post(f"/things/a?count={INT4_MAX}", json=body)
    assert response.status_code == 200, response.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@given(json_values)
def test_whatever_json_problem_accepts_can_be_serialized_and_stored(value: Any) -> None:
    """The property the outbox and jsonb rely on: accepted means orjson writes it and it
    has no NUL (jsonb's one refusal of valid UTF-8 text)."""
    if json_problem(value) is None:
        encoded = orjson.dumps(value)
        assert b"\\u0000" not in encoded
        encoded.decode("utf-8")
    else:
        loc, _ = json_problem(value) or ((), "")
        assert isinstance(loc, tuple)
