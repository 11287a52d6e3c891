"""The batch path of the ingest worker (``lead.received`` → ``sales.lead.created``) against
the real broker and PostgreSQL: batches are handed to the worker exactly as composed here
(the same ``handle_batch`` FastStream calls with each fetched batch), then topics and
tables are checked."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from fastapi.testclient import TestClient
from leadflow_contracts import LeadReceived, Producer, lead_id_for, received_event_id, utcnow
from leadflow_contracts import headers as h
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.__main__ import MIGRATIONS
from leadflow_ingest.app import create_app
from leadflow_ingest.handlers.consume_received import ReceivedConsumer
from leadflow_ingest.settings import Settings
from servicekit.db import drop_database, ensure_database, libpq_url, with_database
from servicekit.events import Outgoing, new_envelope
from servicekit.migrations import upgrade
from servicekit.testing.helpers import TopicReader, consumer_record

T0 = utcnow().replace(microsecond=0)


def received(tenant: str, body: dict[str, Any], at: datetime) -> Outgoing:
    """A ``lead.received`` as the webhook API publishes it, received at ``at``."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    lead_id = lead_id_for(tenant, "generic", webhook_id)
    envelope = new_envelope(
        LEAD_RECEIVED,
        LeadReceived(source="generic", webhook_id=webhook_id, received_at=at, body=body),
        producer=Producer(service="test", version="0"),
        event_id=received_event_id(lead_id),
        tenant_id=tenant,
        lead_id=lead_id,
        correlation_id=webhook_id,
        occurred_at=at,
    )
    return Outgoing.of(LEAD_RECEIVED, envelope)


def feed(client: TestClient, settings: Settings, *batches: list[Outgoing]) -> None:
    """Hand each batch to the app's worker, in order."""
    worker: ReceivedConsumer = client.app.state.worker  # type: ignore[attr-defined]
    offset = 0
    for batch in batches:
        topic = settings.topic_prefix + LEAD_RECEIVED.name
        records = [consumer_record(topic, out, offset + i) for i, out in enumerate(batch)]
        offset += len(batch)
        client.portal.call(worker.handle_batch, records)  # type: ignore[union-attr]


def rows(settings: Settings, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(settings.database_url)) as conn:
        return conn.execute(query, params).fetchall()


def lead_of(record: Outgoing) -> str:
    return str(record.value["lead_id"])


def contact_cases(acme: str, other: str) -> list[Outgoing]:
    """Leads whose duplicate decisions depend on each other, in batch order."""
    ann, carl = "ann@acme-buyer.example", "carl@acme-buyer.example"
    return [
        received(acme, {"email": ann}, T0),  # 0: first of its contact
        received(acme, {"email": ann.upper()}, T0 + timedelta(seconds=1)),  # 1: dup of 0
        received(acme, {"email": carl, "phone": "+14155552671"}, T0 + timedelta(seconds=2)),  # 2
        # 3: matches 2 by phone and 0 by email: the earliest (0) wins.
        received(acme, {"email": ann, "phone": "(415) 555-2671"}, T0 + timedelta(seconds=3)),
        # 4: same email, but received before 0: never a duplicate of a later lead.
        received(acme, {"email": ann}, T0 - timedelta(hours=1)),
        received(other, {"email": ann}, T0 + timedelta(seconds=4)),  # 5: other tenant
        # 6: outside the 30-day window of every other lead.
        received(acme, {"email": ann}, T0 - timedelta(days=31)),
    ]


async def test_duplicates_in_one_batch_are_flagged_and_redelivery_re_emits_the_same_bytes(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    created_t = ready.topic_prefix + LEAD_CREATED.name
    with TestClient(create_app(ready)) as client:
        acme = kit.provision(client, make_slug("acme"), region="US").slug
        other = kit.provision(client, make_slug("other")).slug
        cases = contact_cases(acme, other)
        later = received(acme, {"email": "ann@acme-buyer.example"}, T0 + timedelta(minutes=5))
        async with TopicReader(ready.kafka_bootstrap_servers, created_t) as reader:
            # One batch with case 0 twice (a redelivery inside the batch), then a second
            # batch with a redelivery of case 1 and a new lead.
            feed(client, ready, [*cases[:1], *cases], [cases[1], later])
            await reader.wait_for(lambda r: len(r) >= 9, what="8 lead.created + 1 re-emitted")
            records = await reader.drain()
        metrics = client.get("/metrics").text

    by_lead: dict[str, list[bytes]] = {}
    for record in records:
        by_lead.setdefault(orjson.loads(record.value)["lead_id"], []).append(record.value)
    assert Counter(len(v) for v in by_lead.values()) == {1: 7, 2: 1}
    first, again = by_lead[lead_of(cases[1])]
    assert first == again  # the redelivery re-publishes the stored record byte for byte
    duplicate_of = {
        lead_id: orjson.loads(values[0])["payload"]["lead"]["duplicate_of"]
        for lead_id, values in by_lead.items()
    }
    ids = [lead_of(c) for c in cases]
    assert [duplicate_of[i] for i in ids] == [None, ids[0], None, ids[0], None, None, None]
    # Case 4 (received an hour before case 0) is now the earliest of that contact.
    assert duplicate_of[lead_of(later)] == ids[4]
    stored = rows(ready, "SELECT lead_id::text, duplicate_of::text FROM leads")
    assert dict(stored) == duplicate_of
    assert 'leads_processed_total{outcome="duplicate",service="ingest"} 2.0' in metrics
    assert 'leads_processed_total{outcome="ok",service="ingest"} 8.0' in metrics


async def test_a_lead_that_cannot_be_ingested_is_dead_lettered_alone(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    p = ready.topic_prefix
    created_t, dlq_t = p + LEAD_CREATED.name, p + LEAD_RECEIVED.dlq
    with TestClient(create_app(ready)) as client:
        acme = kit.provision(client, make_slug("acme")).slug
        good = [received(acme, {"email": f"lead{i}@buyer.example"}, T0) for i in range(4)]
        unusable = received(acme, {"email": "broken", "phone": "nope"}, T0)
        ghost = received(f"ghost-{acme}", {"email": "a@b.example"}, T0)  # unknown tenant
        async with TopicReader(ready.kafka_bootstrap_servers, created_t, dlq_t) as reader:
            feed(client, ready, [good[0], unusable, good[1], good[2], ghost, good[3]])
            await reader.wait_for(lambda r: len(r) >= 6, what="4 lead.created, 2 dead letters")
            records = await reader.drain()
        metrics = client.get("/metrics").text

    created = [orjson.loads(r.value) for r in records if r.topic == created_t]
    assert sorted(c["lead_id"] for c in created) == sorted(lead_of(g) for g in good)
    dead = [r for r in records if r.topic == dlq_t]
    assert sorted(orjson.loads(r.value)["lead_id"] for r in dead) == sorted(
        [lead_of(unusable), lead_of(ghost)]
    )
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        assert headers[h.DLQ_EXCEPTION_CLASS] == "servicekit.errors.InvalidMessage"
        assert headers[h.DLQ_ORIGINAL_TOPIC] == p + LEAD_RECEIVED.name
    # Nothing of the poison records was stored; the good ones are.
    assert sorted(r[0] for r in rows(ready, "SELECT lead_id::text FROM leads")) == sorted(
        lead_of(g) for g in good
    )
    poison_ids = [uuid.UUID(x.value["event_id"]) for x in (unusable, ghost)]
    assert rows(ready, "SELECT count(*) FROM inbox WHERE event_id = ANY(%s)", poison_ids) == [(0,)]
    assert 'leads_processed_total{outcome="dead_lettered",service="ingest"} 2.0' in metrics
    assert 'leads_processed_total{outcome="ok",service="ingest"} 4.0' in metrics


async def test_batch_output_equals_one_by_one_output_byte_for_byte(
    ready: Settings, kit: Any, make_slug: Any, postgres_url: str, unique: str, clock: Any
) -> None:
    """The same inputs through two databases: one record per batch, then one batch."""
    created_t = ready.topic_prefix + LEAD_CREATED.name
    acme, other = make_slug("acme"), make_slug("other")
    cases = contact_cases(acme, other)
    second = with_database(postgres_url, f"leadflow_test_{unique}_batched")
    ensure_database(second)
    published: dict[str, list[bytes]] = {}
    try:
        upgrade(second, MIGRATIONS)
        batched = ready.model_copy(update={"database_url": second})
        runs = (("single", ready, [[c] for c in cases]), ("batched", batched, [cases]))
        for name, settings, batches in runs:
            with TestClient(create_app(settings, clock=clock)) as client:
                kit.provision(client, acme, region="US")
                kit.provision(client, other)
                async with TopicReader(ready.kafka_bootstrap_servers, created_t) as reader:
                    feed(client, settings, *batches)
                    await reader.wait_for(lambda r: len(r) >= 7, what="7 lead.created at least")
                    published[name] = [r.value for r in await reader.drain()]
    finally:
        drop_database(second)

    # The second reader sees both runs: every record of the first run exactly twice.
    single = Counter(published["single"])
    assert sum(single.values()) == len(cases)
    assert set(single.values()) == {1}
    assert Counter(published["batched"]) == Counter(dict.fromkeys(single, 2))
    flagged = [orjson.loads(v)["payload"]["lead"]["duplicate_of"] for v in single]
    assert sum(f is not None for f in flagged) == 2  # the cases exercise real matches
