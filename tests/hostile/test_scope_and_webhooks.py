"""Tenant scope on global resources, rep ids per tenant, webhooks the pipeline could not
carry, URLs and metrics that reveal nothing: the remaining cases of the review."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.hostile.conftest import PUBLIC_BASE_URL, Api


def _tier(api: Api, name: str, **limits: int) -> dict[str, Any]:
    tier = {"name": name, "rate_per_minute": 50, "monthly_quota": 1000, "sla_minutes": 5}
    created = api.call("POST", "/v1/tiers", json=tier | limits)
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_global_resources_need_a_token_for_every_tenant(api: dict[str, Api]) -> None:
    ingest, tenant = api["ingest"], api["ingest"].run.tenant
    name = f"b-{uuid.uuid4().hex[:8]}"
    before = _tier(ingest, name)
    scoped: dict[str, Any] = {"role": "admin", "tenants": [tenant]}
    limits = {"rate_per_minute": 0, "monthly_quota": 0, "sla_minutes": 1}
    attempts = [
        ingest.call("GET", "/v1/tiers", **scoped),
        ingest.call("GET", f"/v1/tiers/{name}", **scoped),
        ingest.call("PUT", f"/v1/tiers/{name}", json=limits, **scoped),
        ingest.call("DELETE", f"/v1/tiers/{name}", **scoped),
        ingest.call("POST", "/v1/tiers", json=limits | {"name": f"{name}-2"}, **scoped),
        ingest.call(
            "POST",
            "/v1/tenants",
            json={"slug": f"{name}-t", "name": "B", "tier": name, "default_region": "DE"},
            **scoped,
        ),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "['*']" in response.json()["detail"]
    assert ingest.call("GET", f"/v1/tiers/{name}").json() == before  # B's limits untouched
    # The tenant's own admin still manages the tenant itself, tier moves included.
    moved = ingest.call("PATCH", f"/v1/tenants/{tenant}", json={"tier": name}, **scoped)
    assert moved.status_code == 200, moved.text


def test_rep_ids_are_per_tenant_and_do_not_leak(api: dict[str, Api]) -> None:
    router, seeded = api["router"], api["router"].run.tenant  # seeded has rep "alice"
    other = f"other-{uuid.uuid4().hex[:8]}"
    base = f"/v1/tenants/{other}"
    team = router.call("POST", f"{base}/teams", json={"team_id": "core", "name": "Core"})
    assert team.status_code == 201, team.text
    rep = {"rep_id": "alice", "name": "Alice B", "team_ids": ["core"]}
    assert router.call("POST", f"{base}/reps", json=rep).status_code == 201
    again = router.call("POST", f"{base}/reps", json=rep, role="manager", tenants=[other])
    assert again.status_code == 409
    assert seeded not in again.text
    # Each tenant's alice is its own row: changing one leaves the other alone.
    away = {"presence": "away"}
    changed = router.call("PUT", f"{base}/reps/alice/presence", json=away, tenants=[other])
    assert changed.status_code == 200, changed.text
    theirs = router.call("GET", f"/v1/tenants/{seeded}/reps/alice").json()
    assert theirs["presence"] == "available"
    assert theirs["name"] != "Alice B"
    cross = router.call("PUT", f"{base}/reps/alice/presence", json=away, tenants=[seeded])
    assert cross.status_code == 403


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"d": value}
    return value


@pytest.fixture(scope="module")
def secret(api: dict[str, Api]) -> str:
    ingest = api["ingest"]
    rotated = ingest.call(
        "POST", f"/v1/tenants/{ingest.run.tenant}/sources/generic/secrets:rotate", json={}
    )
    assert rotated.status_code == 201, rotated.text
    return str(rotated.json()["secret"])


def _send(api: Api, secret: str, payload: Any, tenant: str | None = None) -> Any:
    raw = json.dumps(payload, ensure_ascii=True)
    webhook_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    return api.http.post(
        f"/v1/webhooks/{tenant or api.run.tenant}/generic",
        content=raw.encode(),
        headers={
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, now, raw),
        },
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@corp.example", "first_name": "A\x00"}, "body.first_name"),
        ({"email": "a@corp.example", "custom": {"k\x00": "v"}}, "body.custom.k\x00"),
        ({"email": "a@corp.example", "custom": _nested(198)}, "body.custom"),
        ({"email": "a@corp.example", "custom": _nested(300)}, "body.custom"),
        ({"email": "a@corp.example", "custom": {"n": 2**63}}, "body.custom.n"),
        ({"email": "a@corp.example", "custom": {"n": 2**64}}, "body.custom.n"),
    ],
    ids=["nul-value", "nul-key", "depth-198", "depth-300", "int-beyond-int8", "int-beyond-u64"],
)
def test_webhooks_the_pipeline_cannot_carry_are_refused_at_the_door(
    api: dict[str, Api], secret: str, payload: Any, field: str
) -> None:
    response = _send(api["ingest"], secret, payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(e["field"].startswith(field) for e in response.json()["errors"])


def test_a_webhook_within_the_limits_is_accepted(api: dict[str, Api], secret: str) -> None:
    response = _send(api["ingest"], secret, {"email": "b@corp.example", "custom": _nested(20)})
    assert response.status_code == 202, response.text


def test_urls_come_from_the_public_base_url_not_the_host_header(api: dict[str, Api]) -> None:
    ingest, tenant = api["ingest"], api["ingest"].run.tenant
    path = f"/v1/tenants/{tenant}/sources/generic/secrets:rotate"
    response = ingest.call("POST", path, json={}, headers={"host": "evil.example"})
    assert response.status_code == 201, response.text
    assert response.json()["webhook_url"] == f"{PUBLIC_BASE_URL}/v1/webhooks/{tenant}/generic"


def test_metrics_name_no_tenant(api: dict[str, Api], secret: str) -> None:
    ingest = api["ingest"]
    assert _send(ingest, secret, {"email": "c@corp.example"}).status_code == 202
    unknown = _send(ingest, secret, {"email": "c@corp.example"}, tenant="no-such-tenant")
    assert unknown.status_code == 401
    metrics = ingest.http.get("/metrics").text
    assert 'tenant="_all"' in metrics
    assert ingest.run.tenant not in metrics
