"""The happy path end to end (real broker, real PostgreSQL): a signed webhook becomes one
``lead.received`` and one normalized ``lead.created``; replays and concurrent copies are
duplicates; the stored lead is read and searched within its tenant only.

Each test starts from ``acme``: a running ingest and a provisioned tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.testing.helpers import TopicReader, eventually

JANA = {
    "first_name": " Jana ",
    "email": "  Jana.Becker@Solarwerk.example ",
    "phone": "030 5550 1942",
    "country": "Germany",
    "tags": ["webinar", "webinar"],
}


@dataclass
class Acme:
    client: TestClient
    settings: Settings
    kit: Any
    tenant: Any

    def send(self, body: Any) -> tuple[bytes, dict[str, str], httpx.Response]:
        raw, headers = self.kit.signed(self.tenant.secret, body)
        return raw, headers, self.client.post(self.tenant.url, content=raw, headers=headers)

    async def wait_stored(self, lead_id: str) -> None:
        async def _visible() -> bool:
            url = f"/v1/leads/{lead_id}"
            return self.client.get(url, headers=self.kit.admin).status_code == 200

        await eventually(_visible, what=f"lead {lead_id} to be processed")

    async def events(self, created: int) -> tuple[list[Any], dict[str, Any]]:
        """lead.received in order and lead.created by lead id, once ``created`` are in."""
        p = self.settings.topic_prefix
        received_t, created_t = p + LEAD_RECEIVED.name, p + LEAD_CREATED.name
        async with TopicReader(
            self.settings.kafka_bootstrap_servers, received_t, created_t
        ) as reader:
            await reader.wait_for(
                lambda _: len(reader.values(created_t)) >= created,
                what=f"{created} lead.created",
            )
            await reader.drain()
            return reader.values(received_t), {v["lead_id"]: v for v in reader.values(created_t)}


@pytest.fixture
def acme(ready: Settings, kit: Any, make_slug: Any) -> Iterator[Acme]:
    with TestClient(create_app(ready)) as client:
        yield Acme(client, ready, kit, kit.provision(client, make_slug("acme")))


async def test_a_signed_webhook_is_accepted_and_its_replay_is_a_duplicate(acme: Acme) -> None:
    raw, headers, first = acme.send(JANA)
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["status"] == "accepted"
    assert answer["webhook_id"] == answer["correlation_id"] == headers["webhook-id"]

    replay = acme.client.post(acme.tenant.url, content=raw, headers=headers)
    assert replay.status_code == 200, replay.text
    assert replay.json()["status"] == "duplicate"
    assert replay.json()["lead_id"] == answer["lead_id"]

    received, _ = await acme.events(1)
    assert [v["lead_id"] for v in received].count(answer["lead_id"]) == 1
    assert len(received) == 1
    envelope = received[0]
    assert envelope["payload"]["sla_minutes"] == 15
    assert envelope["correlation_id"] == headers["webhook-id"]
    assert envelope["payload"]["body"] == orjson.loads(raw)  # upstream body as sent

    metrics = acme.client.get("/metrics").text
    # No tenant-identifying labels by default (/metrics has no authentication).
    assert acme.tenant.slug not in metrics
    assert 'webhooks_total{outcome="accepted",source="generic",tenant="_all"} 1.0' in metrics
    assert 'webhooks_total{outcome="duplicate",source="generic",tenant="_all"} 1.0' in metrics
    assert 'stage_latency_seconds_count{service="ingest",stage="lead.created"}' in metrics


async def test_the_created_lead_is_normalized(acme: Acme) -> None:
    _, _, first = acme.send(JANA)
    assert first.status_code == 202, first.text
    _, created = await acme.events(1)
    stored = created[first.json()["lead_id"]]["payload"]["lead"]
    assert stored["email"] == "jana.becker@solarwerk.example"
    assert stored["phone"] == "+493055501942"
    assert stored["country"] == "DE"
    assert stored["first_name"] == "Jana"
    assert stored["tags"] == ["webinar"]
    assert stored["sla_minutes"] == 15
    assert stored["duplicate_of"] is None


async def test_concurrent_identical_requests_accept_exactly_one(acme: Acme) -> None:
    raw, headers = acme.kit.signed(acme.tenant.secret, {"phone": "+49 30 5550 1999"})
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(
                lambda _: acme.client.post(acme.tenant.url, content=raw, headers=headers),
                range(4),
            )
        )
    statuses = sorted(r.status_code for r in codes)
    assert statuses == [200, 200, 200, 202]
    assert len({r.json()["lead_id"] for r in codes}) == 1
    metrics = acme.client.get("/metrics").text
    assert 'webhooks_total{outcome="accepted",source="generic",tenant="_all"} 1.0' in metrics
    assert 'webhooks_total{outcome="duplicate",source="generic",tenant="_all"} 3.0' in metrics


async def test_the_same_email_in_a_new_webhook_is_flagged_and_both_are_found_by_contact(
    acme: Acme,
) -> None:
    client, kit, slug = acme.client, acme.kit, acme.tenant.slug
    first = acme.send(JANA)[2].json()
    await acme.wait_stored(first["lead_id"])
    # Same email, new webhook-id: a new lead flagged as duplicate of the first.
    second = acme.send({"email": "jana.becker@solarwerk.example"})[2]
    assert second.status_code == 202, second.text
    _, created = await acme.events(2)
    dup = created[second.json()["lead_id"]]["payload"]["lead"]
    assert dup["duplicate_of"] == first["lead_id"]

    # Search by contact, in any spelling the sender used; newest first, scoped.
    search = f"/v1/tenants/{slug}/leads"
    viewer = kit.token("viewer", [slug])

    async def _both_stored() -> bool:
        found = client.get(
            search, params={"email": "Jana.Becker@solarwerk.example"}, headers=viewer
        )
        return len(found.json()) == 2

    await eventually(_both_stored, what="both leads of that email to be stored")
    by_email = client.get(search, params={"email": "Jana.Becker@solarwerk.example"}, headers=viewer)
    assert [x["lead_id"] for x in by_email.json()] == [
        second.json()["lead_id"],
        first["lead_id"],
    ]
    by_phone = client.get(search, params={"phone": "030 5550 1942"}, headers=viewer).json()
    assert [x["lead_id"] for x in by_phone] == [first["lead_id"]]
    assert client.get(search, headers=viewer).status_code == 422
    foreign = kit.token("viewer", ["other"])
    assert client.get(search, params={"email": "x@y.example"}, headers=foreign).status_code == 403


async def test_a_lead_is_read_within_its_tenant_only(acme: Acme) -> None:
    client, kit = acme.client, acme.kit
    lead_id = acme.send(JANA)[2].json()["lead_id"]
    await acme.wait_stored(lead_id)
    lead_url = f"/v1/leads/{lead_id}"
    got = client.get(lead_url, headers=kit.token("viewer", [acme.tenant.slug]))
    assert got.status_code == 200, got.text
    assert got.json()["email"] == "jana.becker@solarwerk.example"
    other = client.get(lead_url, headers=kit.token("viewer", ["someone-else"]))
    assert other.status_code == 404
    assert client.get(f"/v1/leads/{uuid.uuid4()}", headers=kit.admin).status_code == 404
