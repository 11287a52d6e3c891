"""The OpenAPI document says what the API really answers, errors included.

FastAPI documents only the success status and a JSON 422 that no route returns (ours
are RFC 9457 ``application/problem+json``). ``document_problems`` rewrites every error
response of every operation to the ``Problem`` schema and adds the statuses the shared
machinery answers for any route of its kind:

* 401 and 403 for routes behind a bearer token;
* 400 (unparseable body, or a request line the server refuses) for routes with a body or
  path parameters, 422 for routes with any input;
* 404 for routes with path parameters (the thing named there may not exist);
* 503 (+ Retry-After) for every ``/v1`` route: an outage of the database or broker.

Statuses particular to a route (409, 429, …) are declared on the route with
``responses=`` and get the ``Problem`` schema here too. ``make fuzz`` checks the result
against the live answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from servicekit.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field (422).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

_DESCRIPTIONS = {
    "400": "Malformed request: the body is not valid JSON, or the request line cannot be "
    "parsed (a path the HTTP server refuses before the app, answered as plain text).",
    "401": "No valid bearer token.",
    "403": "The token's role or tenants do not allow this.",
    "404": "Not found (or not visible to this token).",
    "422": "A field failed validation; 'errors' names each one.",
    "503": "The database or broker is unavailable; retry after Retry-After seconds.",
}
_METHODS = ("get", "put", "post", "delete", "patch")


def problems(**statuses: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route for its own statuses: ``problems(s409="Tier in use")``."""
    return {int(key.removeprefix("s")): {"description": text} for key, text in statuses.items()}


def _generic_statuses(operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    statuses = []
    if operation.get("security"):
        statuses += ["401", "403"]
    if "requestBody" in operation or any(p.get("in") == "path" for p in params):
        statuses.append("400")
    if params or "requestBody" in operation:
        statuses.append("422")
    if any(p.get("in") == "path" for p in params):
        statuses.append("404")
    return [*statuses, "503"]


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def add_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``schema`` (an OpenAPI document) in place as described above."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue  # ops endpoints (/readyz) answer plain JSON
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in _generic_statuses(operation):
                responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    description = response.get("description") or _DESCRIPTIONS.get(status, "")
                    if description == "Validation Error":
                        description = _DESCRIPTIONS["422"]
                    responses[status] = _problem_response(description) | {
                        k: v for k, v in response.items() if k == "headers"
                    }
    return schema


def document_problems(app: FastAPI) -> None:
    """Serve ``add_problems`` of the generated document as ``/openapi.json``."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
