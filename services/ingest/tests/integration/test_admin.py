"""Admin API: rotation with grace, revocation, tenant isolation, entitlements, auditing."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from leadflow_contracts.topics import CONFIG_CHANGED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.db import libpq_url
from servicekit.testing.helpers import TopicReader


async def test_rotation_revocation_isolation_and_entitlements(
    ready: Settings, kit: Any, make_slug: Any, clock: Any
) -> None:
    with TestClient(create_app(ready, clock=clock)) as client:
        a = kit.provision(client, make_slug("a"), rate_per_minute=2, monthly_quota=1000)
        b = kit.provision(client, make_slug("b"))
        secrets_url = f"/v1/tenants/{a.slug}/sources/generic/secrets"
        manager_a = kit.token("manager", [a.slug])

        def send(secret: str, **kw: Any) -> int:
            raw, headers = kit.signed(secret, {"email": "r@corp.example"}, at=clock.now, **kw)
            return int(client.post(a.url, content=raw, headers=headers).status_code)

        # --- rotation: both secrets valid during the grace period, only the new after it.
        rotated = client.post(
            f"{secrets_url}:rotate", json={"grace_seconds": 60}, headers=manager_a
        )
        assert rotated.status_code == 201, rotated.text
        new = rotated.json()
        assert new["secret"].startswith("whsec_")
        assert new["secret"] != a.secret
        assert send(a.secret) == 202
        assert send(new["secret"]) == 202
        assert send(a.secret) == 429  # tier allows 2 per minute
        listed = client.get(secrets_url, headers=manager_a)
        assert listed.status_code == 200
        assert "whsec_" not in listed.text
        assert a.secret not in listed.text
        info = {s["secret_id"]: s for s in listed.json()}
        assert info[a.secret_id]["expires_at"] is not None
        assert info[a.secret_id]["active"]
        assert info[new["secret_id"]]["expires_at"] is None
        assert info[a.secret_id]["last_used_at"] is not None

        # --- rate limit raised through the API applies at once, no restart.
        tier = client.get(f"/v1/tiers/tier-{a.slug}", headers=kit.admin).json()
        tier.update(rate_per_minute=100)
        del tier["created_at"], tier["updated_at"]
        assert (
            client.put(f"/v1/tiers/{tier['name']}", json=tier, headers=kit.admin).status_code == 200
        )
        clock.now += timedelta(seconds=61)  # grace over (and a fresh minute window)
        assert send(new["secret"]) == 202
        assert send(a.secret) == 401  # old secret expired
        # --- revocation: rejected at once.
        assert (
            client.delete(f"{secrets_url}/{new['secret_id']}", headers=manager_a).status_code == 204
        )
        assert send(new["secret"]) == 401

        # --- monthly quota: 3 accepted so far this month; lowering it to 3 blocks the 4th.
        third = client.post(f"{secrets_url}:rotate", json={"grace_seconds": 0}, headers=manager_a)
        newest = third.json()["secret"]
        tier.update(monthly_quota=3)
        client.put(f"/v1/tiers/{tier['name']}", json=tier, headers=kit.admin)
        raw, headers = kit.signed(newest, {"email": "q@corp.example"}, at=clock.now)
        refused = client.post(a.url, content=raw, headers=headers)
        assert refused.status_code == 429
        assert refused.json()["type"].endswith("/quota-exceeded")
        assert int(refused.headers["retry-after"]) > 0
        usage = client.get(f"/v1/tenants/{a.slug}/usage", headers=kit.token("viewer", [a.slug]))
        assert usage.status_code == 200, usage.text
        assert (usage.json()["accepted_this_period"], usage.json()["monthly_quota"]) == (3, 3)
        listed_sources = client.get(f"/v1/tenants/{a.slug}/sources", headers=manager_a).json()
        assert [s["source"] for s in listed_sources] == ["generic"]
        tier.update(monthly_quota=4)
        client.put(f"/v1/tiers/{tier['name']}", json=tier, headers=kit.admin)
        assert client.post(a.url, content=raw, headers=headers).status_code == 202  # retry ok
        # A duplicate is never counted nor limited.
        assert client.post(a.url, content=raw, headers=headers).status_code == 200

        # --- tenant isolation on the admin API.
        b_url = f"/v1/tenants/{b.slug}"
        for method, url, body in [
            ("GET", b_url, None),
            ("PATCH", b_url, {"name": "Mine now"}),
            ("POST", f"{b_url}/sources/generic/secrets:rotate", {"grace_seconds": 0}),
            ("GET", f"{b_url}/sources/generic/secrets", None),
            ("DELETE", f"{b_url}/sources/generic/secrets/{b.secret_id}", None),
        ]:
            denied = client.request(method, url, json=body, headers=manager_a)
            assert denied.status_code == 403, (method, url, denied.text)
        assert client.get(b_url, headers=kit.admin).json()["name"] == b.slug.title()
        assert [t["slug"] for t in client.get("/v1/tenants", headers=manager_a).json()] == [a.slug]
        # Managers change name/region, not their tier; nobody without a token gets in.
        assert (
            client.patch(
                f"/v1/tenants/{a.slug}", json={"default_region": "at"}, headers=manager_a
            ).json()["default_region"]
            == "AT"
        )
        assert (
            client.patch(
                f"/v1/tenants/{a.slug}", json={"tier": tier["name"]}, headers=manager_a
            ).status_code
            == 403
        )
        assert client.post("/v1/tiers", json={}, headers=manager_a).status_code == 403
        assert client.get("/v1/tenants").status_code == 401
        assert client.get("/v1/tenants", headers={"Authorization": "Bearer x"}).status_code == 401
        in_use = client.delete(f"/v1/tiers/{tier['name']}", headers=kit.admin)
        assert in_use.status_code == 409

    # Secrets are encrypted at rest: the raw key bytes appear nowhere in the table.
    raw_key = base64.b64decode(newest.removeprefix("whsec_"))
    with psycopg.connect(libpq_url(ready.database_url)) as conn:
        stored = [r[0] for r in conn.execute("SELECT ciphertext FROM webhook_secrets")]
    assert stored
    assert all(raw_key not in bytes(c) and newest.encode() not in bytes(c) for c in stored)

    # Every change emitted config.changed (tiers as "*", the rest under their tenant).
    topic = ready.topic_prefix + CONFIG_CHANGED.name
    async with TopicReader(ready.kafka_bootstrap_servers, topic) as reader:
        await reader.wait_for(lambda r: len(r) >= 13, what="config.changed events")
        events = reader.values(topic)
    entities = {(e["tenant_id"], e["payload"]["entity"], e["payload"]["action"]) for e in events}
    assert ("*", "tier", "updated") in entities
    assert (a.slug, "secret", "deleted") in entities
    assert (a.slug, "tenant", "updated") in entities
    assert "whsec_" not in str(events)
