"""The happy path end to end (real broker, real PostgreSQL), replay, and the worker."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from fastapi.testclient import TestClient
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.testing.helpers import TopicReader, eventually


async def test_signed_webhook_flows_to_lead_created_once(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    with TestClient(create_app(ready)) as client:
        acme = kit.provision(client, make_slug("acme"))
        lead = {
            "first_name": " Jana ",
            "email": "  Jana.Becker@Solarwerk.example ",
            "phone": "030 5550 1942",
            "country": "Germany",
            "tags": ["webinar", "webinar"],
        }
        raw, headers = kit.signed(acme.secret, lead)
        first = client.post(acme.url, content=raw, headers=headers)
        assert first.status_code == 202, first.text
        answer = first.json()
        assert answer["status"] == "accepted"
        assert answer["webhook_id"] == answer["correlation_id"] == headers["webhook-id"]

        replay = client.post(acme.url, content=raw, headers=headers)
        assert replay.status_code == 200, replay.text
        assert replay.json()["status"] == "duplicate"
        assert replay.json()["lead_id"] == answer["lead_id"]

        async def _lead_visible() -> bool:
            url = f"/v1/leads/{answer['lead_id']}"
            return client.get(url, headers=kit.admin).status_code == 200

        await eventually(_lead_visible, what="the first lead to be processed")
        # Same email, new webhook-id: a new lead flagged as duplicate of the first.
        raw2, headers2 = kit.signed(acme.secret, {"email": "jana.becker@solarwerk.example"})
        second = client.post(acme.url, content=raw2, headers=headers2)
        assert second.status_code == 202, second.text

        # Concurrent identical requests: exactly one is accepted.
        raw3, headers3 = kit.signed(acme.secret, {"phone": "+49 30 5550 1999"})
        with ThreadPoolExecutor(4) as pool:
            codes = list(
                pool.map(lambda _: client.post(acme.url, content=raw3, headers=headers3), range(4))
            )
        statuses = sorted(r.status_code for r in codes)
        assert statuses == [200, 200, 200, 202]
        assert len({r.json()["lead_id"] for r in codes}) == 1

        prefix = ready.topic_prefix
        async with TopicReader(
            ready.kafka_bootstrap_servers, prefix + LEAD_RECEIVED.name, prefix + LEAD_CREATED.name
        ) as reader:
            await reader.wait_for(
                lambda _: len(reader.values(prefix + LEAD_CREATED.name)) >= 3,
                what="three lead.created",
            )
            await reader.drain()
            received = reader.values(prefix + LEAD_RECEIVED.name)
            created = {v["lead_id"]: v for v in reader.values(prefix + LEAD_CREATED.name)}
        assert [v["lead_id"] for v in received].count(answer["lead_id"]) == 1
        assert len(received) == 3
        envelope = next(v for v in received if v["lead_id"] == answer["lead_id"])
        assert envelope["payload"]["sla_minutes"] == 15
        assert envelope["correlation_id"] == headers["webhook-id"]
        assert envelope["payload"]["body"] == orjson.loads(raw)  # upstream body as sent

        stored = created[answer["lead_id"]]["payload"]["lead"]
        assert stored["email"] == "jana.becker@solarwerk.example"
        assert stored["phone"] == "+493055501942"
        assert stored["country"] == "DE"
        assert stored["first_name"] == "Jana"
        assert stored["tags"] == ["webinar"]
        assert stored["sla_minutes"] == 15
        assert stored["duplicate_of"] is None
        dup = created[second.json()["lead_id"]]["payload"]["lead"]
        assert dup["duplicate_of"] == answer["lead_id"]

        lead_url = f"/v1/leads/{answer['lead_id']}"
        got = client.get(lead_url, headers=kit.token("viewer", [acme.slug]))
        assert got.status_code == 200, got.text
        assert got.json()["email"] == "jana.becker@solarwerk.example"
        other = client.get(lead_url, headers=kit.token("viewer", ["someone-else"]))
        assert other.status_code == 404
        assert client.get(f"/v1/leads/{uuid.uuid4()}", headers=kit.admin).status_code == 404
        # Search by contact, in any spelling the sender used; newest first, scoped.
        search = f"/v1/tenants/{acme.slug}/leads"
        viewer = kit.token("viewer", [acme.slug])

        async def _both_stored() -> bool:
            found = client.get(
                search, params={"email": "Jana.Becker@solarwerk.example"}, headers=viewer
            )
            return len(found.json()) == 2

        await eventually(_both_stored, what="both leads of that email to be stored")
        by_email = client.get(
            search, params={"email": "Jana.Becker@solarwerk.example"}, headers=viewer
        )
        assert [x["lead_id"] for x in by_email.json()] == [
            second.json()["lead_id"],
            answer["lead_id"],
        ]
        by_phone = client.get(search, params={"phone": "030 5550 1942"}, headers=viewer).json()
        assert [x["lead_id"] for x in by_phone] == [answer["lead_id"]]
        assert client.get(search, headers=viewer).status_code == 422
        assert (
            client.get(
                search, params={"email": "x@y.example"}, headers=kit.token("viewer", ["other"])
            ).status_code
            == 403
        )

        metrics = client.get("/metrics").text
        # No tenant-identifying labels by default (/metrics has no authentication).
        assert acme.slug not in metrics
        assert 'webhooks_total{outcome="accepted",source="generic",tenant="_all"} 3.0' in metrics
        assert 'webhooks_total{outcome="duplicate",source="generic",tenant="_all"} 4.0' in metrics
        assert 'stage_latency_seconds_count{service="ingest",stage="lead.created"}' in metrics
