"""Hostile input is refused at the edge with a 422 naming the field, never a 500 and
never accepted then lost: the cases of the hostile-input review, one by one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.hostile.conftest import Api

BIG = 2**64  # fits JSON, not int8: it blocked a whole outbox before


def body(value: Any) -> dict[str, Any]:
    """``value`` as JSON bytes with every non-ASCII character escaped, so lone
    surrogates travel as ``\\ud800`` the way a hostile sender writes them."""
    return {
        "content": json.dumps(value, ensure_ascii=True).encode(),
        "headers": {"content-type": "application/json"},
    }


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in response.json().get("errors", [])]
    assert any(f == field or f.startswith(field + ".") for f in fields), (field, fields)


TIER = {"rate_per_minute": 1, "monthly_quota": 1, "sla_minutes": 1}
TENANT = {"slug": "ok-slug", "name": "Ok", "tier": "t", "default_region": "DE"}
X = uuid.UUID(int=1)

CASES: list[tuple[str, str, str, dict[str, str] | None, Any, str]] = [
    # service, method, path, query, body, field named in the 422
    (
        "ingest",
        "POST",
        "/v1/tiers",
        None,
        TIER | {"name": "t1", "features": {"n": BIG}},
        "body.features.n",
    ),
    ("ingest", "PUT", "/v1/tiers/t1", None, TIER | {"features": {"n": -BIG}}, "body.features.n"),
    (
        "ingest",
        "POST",
        "/v1/tiers",
        None,
        TIER | {"name": "t1", "features": {"f": 1e19}},
        "body.features.f",
    ),
    (
        "ingest",
        "POST",
        "/v1/tiers",
        None,
        TIER | {"name": "t1", "features": {"k\x00": 1}},
        "body.features",
    ),
    ("ingest", "GET", "/v1/tiers/a%00b", None, None, "path.name"),
    ("ingest", "DELETE", "/v1/tiers/a%00b", None, None, "path.name"),
    ("ingest", "POST", "/v1/tenants", None, TENANT | {"name": "N\x00"}, "body.name"),
    ("ingest", "POST", "/v1/tenants", None, TENANT | {"name": "\ud800"}, "body.name"),
    ("ingest", "POST", "/v1/tenants", None, TENANT | {"tier": "t\x00"}, "body.tier"),
    ("ingest", "GET", "/v1/tenants/a%00", None, None, "path.slug"),
    ("ingest", "PATCH", "/v1/tenants/a%00", None, {"name": "x"}, "path.slug"),
    ("ingest", "POST", "/v1/tenants/a/sources", None, {"source": "g\x00"}, "body.source"),
    ("ingest", "GET", "/v1/tenants/a/sources/g%00/secrets", None, None, "path.source"),
    (
        "scoring",
        "POST",
        "/v1/tenants/a/score:preview",
        {"version": "2147483648"},
        {},
        "query.version",
    ),
    ("scoring", "GET", "/v1/tenants/a/scoring/versions/2147483648", None, None, "path.number"),
    (
        "scoring",
        "PUT",
        "/v1/tenants/a/scoring",
        None,
        {
            "rules": [
                {
                    "id": "r1",
                    "description": "d",
                    "category": "fit",
                    "points": 1,
                    "condition": {"kind": "equals", "field": "country", "value": "D\x00E"},
                }
            ],
            "weights": {"fit": 50, "engagement": 50},
            "threshold": 50,
        },
        "rules[0].condition.value",
    ),
    ("router", "POST", "/v1/tenants/a/teams", None, {"team_id": "t", "name": "N\x00"}, "body.name"),
    ("router", "GET", "/v1/tenants/a/teams/t%00", None, None, "path.team_id"),
    (
        "router",
        "POST",
        "/v1/tenants/a/reps",
        None,
        {"rep_id": "r", "name": "N", "capacity": BIG},
        "body.capacity",
    ),
    (
        "router",
        "POST",
        "/v1/tenants/a/reps",
        None,
        {"rep_id": "r", "name": "N", "capacity": 2**31},
        "body.capacity",
    ),
    (
        "router",
        "POST",
        "/v1/tenants/a/reps",
        None,
        {"rep_id": "r", "name": "N", "skills": ["\ud800"]},
        "body.skills.0",
    ),
    ("router", "GET", "/v1/tenants/a/reps/r%00", None, None, "path.rep_id"),
    ("router", "GET", "/v1/tenants/a/reps", {"team_id": "t\x00"}, None, "query.team_id"),
    (
        "router",
        "PUT",
        "/v1/tenants/a/reps/r%00/presence",
        None,
        {"presence": "away"},
        "path.rep_id",
    ),
    (
        "router",
        "PUT",
        "/v1/tenants/a/routing-rules",
        None,
        {
            "rules": [
                {"rule_id": "r", "team_id": "t", "conditions": [{"field": "country", "value": BIG}]}
            ]
        },
        "body.rules.0.conditions.0.value",
    ),
    ("router", "GET", "/v1/tenants/a/assignments", {"rep_id": "r\x00"}, None, "query.rep_id"),
    ("router", "GET", "/v1/tenants/a/work-queue", {"team_id": "t\x00"}, None, "query.team_id"),
    ("audit", "GET", "/v1/leads:stuck", {"older_than": "260807958707"}, None, "query.older_than"),
    ("audit", "GET", "/v1/events", {"correlation_id": "c\x00"}, None, "query.correlation_id"),
    ("audit", "GET", "/v1/events", {"tenant": "a\x00"}, None, "query.tenant"),
    (
        "audit",
        "GET",
        "/v1/events",
        {"tenant": "a", "event_type": "e\x00"},
        None,
        "query.event_type",
    ),
    ("audit", "GET", "/v1/events", {"tenant": "a", "after": str(2**63)}, None, "query.after"),
    ("dlq", "GET", "/v1/dead-letters", {"error": "e\x00"}, None, "query.error"),
    ("dlq", "GET", "/v1/dead-letters", {"topic": "t\x00"}, None, "query.topic"),
    ("dlq", "GET", "/v1/dead-letters", {"limit": str(BIG)}, None, "query.limit"),
    ("dlq", "POST", "/v1/dead-letters:replay", None, {"error": "e\x00"}, "body.error"),
    ("dlq", "POST", "/v1/dead-letters:replay", None, {"tenant": "\ud800"}, "body.tenant"),
    ("dlq", "POST", f"/v1/dead-letters/{X}:discard", None, {"reason": "r\x00"}, "body.reason"),
]


@pytest.mark.parametrize(
    ("service", "method", "path", "query", "payload", "field"),
    CASES,
    ids=[f"{c[0]} {c[1]} {c[2]} {c[5]}" for c in CASES],
)
def test_hostile_value_is_a_422_naming_the_field(
    api: dict[str, Api],
    service: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    payload: Any,
    field: str,
) -> None:
    extra = body(payload) if payload is not None else {}
    refused(api[service].call(method, path, params=query, **extra), field)
