"""Admin API: rotation with grace, revocation, tenant isolation, entitlements, auditing.

Each test starts from ``tenants``: tenant A (2 webhooks a minute) and tenant B, each with
a generic source, A's manager token and a way to send A a signed webhook.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from leadflow_contracts.topics import CONFIG_CHANGED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.db import libpq_url
from servicekit.testing.helpers import TopicReader


@dataclass
class Tenants:
    client: TestClient
    kit: Any
    clock: Any
    a: Any
    b: Any
    manager_a: dict[str, str]

    @property
    def secrets_url(self) -> str:
        return f"/v1/tenants/{self.a.slug}/sources/generic/secrets"

    def send(self, secret: str, email: str = "r@corp.example") -> int:
        raw, headers = self.kit.signed(secret, {"email": email}, at=self.clock.now)
        return int(self.client.post(self.a.url, content=raw, headers=headers).status_code)

    def rotate(self, grace_seconds: int) -> dict[str, Any]:
        rotated = self.client.post(
            f"{self.secrets_url}:rotate",
            json={"grace_seconds": grace_seconds},
            headers=self.manager_a,
        )
        assert rotated.status_code == 201, rotated.text
        body: dict[str, Any] = rotated.json()
        return body

    def update_tier(self, **changes: Any) -> None:
        """Change tenant A's tier through the API (as the admin)."""
        tier = self.client.get(f"/v1/tiers/tier-{self.a.slug}", headers=self.kit.admin).json()
        del tier["created_at"], tier["updated_at"]
        put = self.client.put(
            f"/v1/tiers/{tier['name']}", json=tier | changes, headers=self.kit.admin
        )
        assert put.status_code == 200, put.text


@pytest.fixture
def tenants(ready: Settings, kit: Any, make_slug: Any, clock: Any) -> Iterator[Tenants]:
    with TestClient(create_app(ready, clock=clock)) as client:
        a = kit.provision(client, make_slug("a"), rate_per_minute=2, monthly_quota=1000)
        b = kit.provision(client, make_slug("b"))
        yield Tenants(client, kit, clock, a, b, kit.token("manager", [a.slug]))


def test_a_rotated_secret_leaves_the_old_one_valid_for_the_grace_period(
    tenants: Tenants,
) -> None:
    a, client = tenants.a, tenants.client
    new = tenants.rotate(grace_seconds=60)
    assert new["secret"].startswith("whsec_")
    assert new["secret"] != a.secret
    assert tenants.send(a.secret) == 202
    assert tenants.send(new["secret"]) == 202
    assert tenants.send(a.secret) == 429  # tier allows 2 per minute
    listed = client.get(tenants.secrets_url, headers=tenants.manager_a)
    assert listed.status_code == 200
    assert "whsec_" not in listed.text
    assert a.secret not in listed.text
    info = {s["secret_id"]: s for s in listed.json()}
    assert info[a.secret_id]["expires_at"] is not None
    assert info[a.secret_id]["active"]
    assert info[new["secret_id"]]["expires_at"] is None
    assert info[a.secret_id]["last_used_at"] is not None

    # A rate limit raised through the API applies at once, no restart.
    tenants.update_tier(rate_per_minute=100)
    tenants.clock.now += timedelta(seconds=61)  # grace over (and a fresh minute window)
    assert tenants.send(new["secret"]) == 202
    assert tenants.send(tenants.a.secret) == 401  # old secret expired


def test_a_revoked_secret_is_rejected_at_once(tenants: Tenants) -> None:
    new = tenants.rotate(grace_seconds=0)
    assert tenants.send(new["secret"]) == 202
    revoked = tenants.client.delete(
        f"{tenants.secrets_url}/{new['secret_id']}", headers=tenants.manager_a
    )
    assert revoked.status_code == 204
    assert tenants.send(new["secret"]) == 401


def test_the_monthly_quota_refuses_then_a_raised_quota_accepts_the_retry(
    tenants: Tenants,
) -> None:
    a, client, kit = tenants.a, tenants.client, tenants.kit
    tenants.update_tier(rate_per_minute=100, monthly_quota=3)
    assert [tenants.send(a.secret, f"{n}@corp.example") for n in range(3)] == [202] * 3
    raw, headers = kit.signed(a.secret, {"email": "q@corp.example"}, at=tenants.clock.now)
    refused = client.post(a.url, content=raw, headers=headers)
    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/quota-exceeded")
    assert int(refused.headers["retry-after"]) > 0
    usage = client.get(f"/v1/tenants/{a.slug}/usage", headers=kit.token("viewer", [a.slug]))
    assert usage.status_code == 200, usage.text
    assert (usage.json()["accepted_this_period"], usage.json()["monthly_quota"]) == (3, 3)
    listed_sources = client.get(f"/v1/tenants/{a.slug}/sources", headers=tenants.manager_a)
    assert [s["source"] for s in listed_sources.json()] == ["generic"]
    unknown = client.post(
        f"/v1/tenants/{a.slug}/sources", json={"source": "fax"}, headers=tenants.manager_a
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"] == [{"field": "body.source", "message": "unknown source"}]
    tenants.update_tier(monthly_quota=4)
    assert client.post(a.url, content=raw, headers=headers).status_code == 202  # retry ok
    # A duplicate is never counted nor limited.
    assert client.post(a.url, content=raw, headers=headers).status_code == 200


def test_a_manager_cannot_reach_another_tenant(tenants: Tenants) -> None:
    client, b = tenants.client, tenants.b
    b_url = f"/v1/tenants/{b.slug}"
    for method, url, body in [
        ("GET", b_url, None),
        ("PATCH", b_url, {"name": "Mine now"}),
        ("POST", f"{b_url}/sources/generic/secrets:rotate", {"grace_seconds": 0}),
        ("GET", f"{b_url}/sources/generic/secrets", None),
        ("DELETE", f"{b_url}/sources/generic/secrets/{b.secret_id}", None),
    ]:
        denied = client.request(method, url, json=body, headers=tenants.manager_a)
        assert denied.status_code == 403, (method, url, denied.text)
    assert client.get(b_url, headers=tenants.kit.admin).json()["name"] == b.slug.title()
    listed = client.get("/v1/tenants", headers=tenants.manager_a).json()
    assert [t["slug"] for t in listed] == [tenants.a.slug]


def test_managers_change_their_region_but_not_their_tier(tenants: Tenants) -> None:
    client, url, manager = tenants.client, f"/v1/tenants/{tenants.a.slug}", tenants.manager_a
    region = client.patch(url, json={"default_region": "at"}, headers=manager)
    assert region.json()["default_region"] == "AT"
    tier = client.patch(url, json={"tier": f"tier-{tenants.a.slug}"}, headers=manager)
    assert tier.status_code == 403
    assert client.post("/v1/tiers", json={}, headers=manager).status_code == 403


def test_nobody_without_a_valid_token_gets_in(tenants: Tenants) -> None:
    assert tenants.client.get("/v1/tenants").status_code == 401
    bad = tenants.client.get("/v1/tenants", headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401


def test_a_tier_in_use_cannot_be_deleted(tenants: Tenants) -> None:
    in_use = tenants.client.delete(f"/v1/tiers/tier-{tenants.a.slug}", headers=tenants.kit.admin)
    assert in_use.status_code == 409


def test_secrets_are_encrypted_at_rest(ready: Settings, tenants: Tenants) -> None:
    newest = tenants.rotate(grace_seconds=0)["secret"]
    # The raw key bytes appear nowhere in the table.
    raw_key = base64.b64decode(newest.removeprefix("whsec_"))
    with psycopg.connect(libpq_url(ready.database_url)) as conn:
        stored = [r[0] for r in conn.execute("SELECT ciphertext FROM webhook_secrets")]
    assert stored
    assert all(raw_key not in bytes(c) and newest.encode() not in bytes(c) for c in stored)


async def test_every_change_emits_config_changed_without_secrets(
    ready: Settings, tenants: Tenants
) -> None:
    a, client = tenants.a, tenants.client
    tenants.update_tier(rate_per_minute=100)
    new = tenants.rotate(grace_seconds=0)
    client.delete(f"{tenants.secrets_url}/{new['secret_id']}", headers=tenants.manager_a)
    client.patch(f"/v1/tenants/{a.slug}", json={"default_region": "at"}, headers=tenants.manager_a)
    # Tiers as "*", the rest under their tenant.
    wanted = {
        ("*", "tier", "updated"),
        (a.slug, "secret", "deleted"),
        (a.slug, "tenant", "updated"),
    }

    def entities(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {(e["tenant_id"], e["payload"]["entity"], e["payload"]["action"]) for e in events}

    topic = ready.topic_prefix + CONFIG_CHANGED.name
    async with TopicReader(ready.kafka_bootstrap_servers, topic) as reader:
        await reader.wait_for(
            lambda _: wanted <= entities(reader.values(topic)), what="config.changed events"
        )
        events = reader.values(topic)
    assert wanted <= entities(events)
    assert "whsec_" not in str(events)
