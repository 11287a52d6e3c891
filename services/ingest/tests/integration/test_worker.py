"""The ingest worker against the real broker: redelivery and the dead-letter path."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient
from leadflow_contracts import LeadReceived, Producer, lead_id_for, received_event_id, utcnow
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.db import libpq_url
from servicekit.events import Outgoing, new_envelope
from servicekit.testing.helpers import TopicReader


def _received(tenant: str, body: dict[str, Any]) -> Outgoing:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    lead_id = lead_id_for(tenant, "generic", webhook_id)
    envelope = new_envelope(
        LEAD_RECEIVED,
        LeadReceived(source="generic", webhook_id=webhook_id, received_at=utcnow(), body=body),
        producer=Producer(service="test", version="0"),
        event_id=received_event_id(lead_id),
        tenant_id=tenant,
        lead_id=lead_id,
        correlation_id=webhook_id,
    )
    return Outgoing.of(LEAD_RECEIVED, envelope)


async def test_redelivery_creates_nothing_twice_and_poison_goes_to_dlq(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    prefix = ready.topic_prefix
    received_topic, created_topic = prefix + LEAD_RECEIVED.name, prefix + LEAD_CREATED.name
    dlq_topic = prefix + LEAD_RECEIVED.dlq
    with TestClient(create_app(ready)) as client:
        acme = kit.provision(client, make_slug("acme"), region="US")
        raw, headers = kit.signed(acme.secret, {"phone": "(415) 555-2671"})
        accepted = client.post(acme.url, content=raw, headers=headers)
        assert accepted.status_code == 202, accepted.text
        lead_id = accepted.json()["lead_id"]
        poison = [
            _received(acme.slug, {"email": "broken", "phone": "nope"}),  # slipped through
            _received(f"ghost-{acme.slug}", {"email": "a@b.example"}),  # unknown tenant
        ]
        async with TopicReader(
            ready.kafka_bootstrap_servers, received_topic, created_topic, dlq_topic
        ) as reader:
            await reader.wait_for(lambda r: any(x.topic == created_topic for x in r))
            original = next(r for r in reader.records if r.topic == received_topic)
            producer = AIOKafkaProducer(bootstrap_servers=ready.kafka_bootstrap_servers)
            await producer.start()
            try:  # a redelivery: the very same record again, then the poison ones
                await producer.send_and_wait(
                    received_topic, original.value, key=original.key, headers=list(original.headers)
                )
                for record in poison:
                    await producer.send_and_wait(
                        received_topic, record.value_bytes(), key=record.key.encode()
                    )
            finally:
                await producer.stop()
            await reader.wait_for(
                lambda r: (
                    len([x for x in r if x.topic == created_topic]) >= 2
                    and len([x for x in r if x.topic == dlq_topic]) >= 2
                ),
                what="re-emitted lead.created and two dead letters",
            )
            await reader.drain()
            created = reader.values(created_topic)
            dead = reader.values(dlq_topic)
        # The redelivered input re-emits the stored event (same id); downstream dedupes.
        assert len({c["event_id"] for c in created}) == 1
        assert created[0]["payload"]["lead"]["phone"] == "+14155552671"
        assert created[0]["payload"]["lead"]["country"] == "US"
        assert created[0]["causation_id"] == str(received_event_id(uuid.UUID(lead_id)))
        assert {d["lead_id"] for d in dead} == {str(p.value["lead_id"]) for p in poison}
        dlq_headers = {
            k: v.decode() for r in reader.records if r.topic == dlq_topic for k, v in r.headers
        }
        assert dlq_headers["x-dlq-exception-class"] == "servicekit.errors.InvalidMessage"
    with psycopg.connect(libpq_url(ready.database_url)) as conn:
        rows = conn.execute("SELECT lead_id FROM leads").fetchall()
    assert [str(r[0]) for r in rows] == [lead_id]
