"""The batch path of the ``sales.lead.created`` consumer, against the real broker and
PostgreSQL: batches are handed to the consumer exactly as composed here (the same
``handle_batch`` FastStream calls with each fetched batch), then topics and tables are
checked."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import orjson
import psycopg
from aiokafka import ConsumerRecord
from fastapi.testclient import TestClient
from leadflow_contracts import derived_event_id, utcnow
from leadflow_contracts import headers as h
from leadflow_contracts.topics import LEAD_CREATED, LEAD_QUALIFIED, LEAD_SCORED
from leadflow_scoring.app import create_app
from leadflow_scoring.domain.defaults import default_rule_set
from leadflow_scoring.handlers.consume_created import CreatedConsumer
from leadflow_scoring.settings import Settings
from psycopg.types.json import Jsonb
from servicekit.db import libpq_url
from servicekit.events import Outgoing
from servicekit.testing import helpers
from servicekit.testing.helpers import TopicReader

STRONG = {
    "title": "CEO", "company_size": 1200, "email": "ceo@bigco.example", "country": "US",
    "tags": ["demo-request"], "utm": {"source": "google", "medium": "cpc"},
}  # fmt: skip
MIDDLE = {"title": "VP Sales", "company_size": 300, "email": "vp@mid.example", "country": "DE"}
WEAK = {"email": "someone@gmail.com", "country": "BR"}


class FixedClock:
    """Always the same instant: outputs of two runs can be compared byte for byte."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def traceparent(record: Outgoing) -> str:
    """A distinct upstream trace per lead (its trace id is the lead id)."""
    lead_id = uuid.UUID(record.value["lead_id"])
    return f"00-{lead_id.hex}-{uuid.UUID(record.value['event_id']).hex[:16]}-01"


def consumer_record(settings: Settings, out: Outgoing, offset: int) -> ConsumerRecord[Any, Any]:
    return helpers.consumer_record(
        settings.topic_prefix + LEAD_CREATED.name,
        out,
        offset,
        headers=[("traceparent", traceparent(out).encode())],
    )


def feed(client: TestClient, settings: Settings, *batches: list[Outgoing]) -> None:
    """Hand each batch to the app's consumer, in order."""
    consumer: CreatedConsumer = client.app.state.consumer  # type: ignore[attr-defined]
    offset = 0
    for batch in batches:
        records = [consumer_record(settings, out, offset + i) for i, out in enumerate(batch)]
        offset += len(batch)
        client.portal.call(consumer.handle_batch, records)  # type: ignore[union-attr]


def rows(settings: Settings, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(settings.database_url)) as conn:
        return conn.execute(query, params).fetchall()


def mine(records: list[ConsumerRecord[Any, Any]], tenant: str) -> list[ConsumerRecord[Any, Any]]:
    return [r for r in records if r.value and orjson.loads(r.value)["tenant_id"] == tenant]


def scored_id(record: Outgoing) -> str:
    return str(derived_event_id(uuid.UUID(record.value["event_id"]), LEAD_SCORED.event_type))


async def test_a_batch_with_duplicates_scores_each_event_once_and_re_emits_identically(
    ready: Settings, kit: Any, unique: str
) -> None:
    tenant, p = f"dup-{unique}", ready.topic_prefix
    scored_t, qualified_t = p + LEAD_SCORED.name, p + LEAD_QUALIFIED.name
    a, b, c = (kit.lead_created(kit.make_lead(tenant, **STRONG)) for _ in range(3))
    with TestClient(create_app(ready)) as client:
        async with TopicReader(ready.kafka_bootstrap_servers, scored_t, qualified_t) as r:
            # a alone, then a batch with a's redelivery, b twice and c.
            feed(client, ready, [a], [a, b, b, c])
            await r.wait_for(lambda x: len(x) >= 8, what="a twice, b and c once (x2 topics)")
            records = mine(await r.drain(), tenant)
        metrics = client.get("/metrics").text

    scored = [x for x in records if x.topic == scored_t]
    ids = Counter(orjson.loads(x.value)["event_id"] for x in scored)
    assert ids == {scored_id(a): 2, scored_id(b): 1, scored_id(c): 1}
    # a's redelivery re-emits the stored records: same ids, same bytes, same headers.
    for topic in (scored_t, qualified_t):
        of_a = [x for x in records if x.topic == topic and orjson.loads(x.value)["lead_id"]
                == a.value["lead_id"]]  # fmt: skip
        assert len(of_a) == 2
        assert of_a[0].value == of_a[1].value
        assert of_a[0].key == of_a[1].key
    inbox = rows(ready, "SELECT event_id FROM inbox WHERE consumer_group = %s", "scoring")
    assert sorted(str(e) for (e,) in inbox) == sorted(x.value["event_id"] for x in (a, b, c))
    assert 'leads_scored_total{outcome="qualified"} 3.0' in metrics
    assert 'leads_processed_total{outcome="duplicate",service="scoring"} 2.0' in metrics


async def test_a_batch_over_two_tenants_scores_each_with_its_own_rule_set(
    ready: Settings, kit: Any, unique: str
) -> None:
    default, custom = f"default-{unique}", f"custom-{unique}"
    scored_t = ready.topic_prefix + LEAD_SCORED.name
    manager = kit.auth("manager", [default, custom])
    spec = default_rule_set().model_dump(mode="json")
    spec |= {"weights": {"fit": 100, "engagement": 0}, "threshold": 90}
    leads = [kit.make_lead(tenant, **STRONG) for tenant in (default, custom, default, custom)]
    batch = [kit.lead_created(lead) for lead in leads]
    with TestClient(create_app(ready)) as client:
        put = client.put(f"/v1/tenants/{custom}/scoring", json=spec, headers=manager)
        assert (put.status_code, put.json()["version"]) == (201, 2), put.text
        async with TopicReader(ready.kafka_bootstrap_servers, scored_t) as r:
            feed(client, ready, batch)
            await r.wait_for(lambda x: len(x) >= 4, what="4 lead.scored")
            scored = {v["lead_id"]: v["payload"] for v in r.values(scored_t)}
        # Every payload is what the preview of that tenant's current version returns.
        for record in batch:
            tenant, lead = record.value["tenant_id"], record.value["payload"]["lead"]
            preview = client.post(f"/v1/tenants/{tenant}/score:preview", json=lead,
                                  headers=manager)  # fmt: skip
            assert preview.json()["scored"] == scored[lead["lead_id"]]

    by_tenant = {
        lead.tenant_id: (p["rules_version"], p["score"], p["qualified"])
        for lead in leads
        for p in [scored[str(lead.lead_id)]]
    }
    assert by_tenant == {default: (1, 72, True), custom: (2, 80, False)}


def store_unloadable_version(url: str, tenant: str) -> None:
    """As a newer release (one that knows a ``sounds_like`` condition) would store it."""
    rules = [{"id": "x", "description": "x", "category": "fit", "points": 5,
              "condition": {"kind": "sounds_like", "field": "title", "value": "ceo"}}]  # fmt: skip
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO rule_set_versions (tenant, version, rules, weights, threshold, created_by)"
            " VALUES (%s, 1, %s, %s, 50, 'scoring v9')",
            (tenant, Jsonb(rules), Jsonb({"fit": 1, "engagement": 1})),
        )


async def test_a_lead_that_cannot_be_scored_is_dead_lettered_alone_and_the_rest_scored(
    ready: Settings, kit: Any, unique: str
) -> None:
    good, broken = f"good-{unique}", f"broken-{unique}"
    p = ready.topic_prefix
    scored_t, dlq_t = p + LEAD_SCORED.name, p + LEAD_CREATED.dlq
    store_unloadable_version(ready.database_url, broken)
    fine = [kit.lead_created(kit.make_lead(good, **STRONG)) for _ in range(4)]
    poison = kit.lead_created(kit.make_lead(broken, **STRONG))
    with TestClient(create_app(ready)) as client:
        async with TopicReader(ready.kafka_bootstrap_servers, scored_t, dlq_t) as r:
            feed(client, ready, [*fine[:2], poison, *fine[2:]])
            await r.wait_for(lambda x: len(x) >= 5, what="4 lead.scored and 1 dead letter")
            records = await r.drain()
        metrics = client.get("/metrics").text

    [dead] = [x for x in records if x.topic == dlq_t]
    assert orjson.loads(dead.value)["event_id"] == poison.value["event_id"]
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers[h.DLQ_EXCEPTION_CLASS].endswith("RuleSetUnavailable")
    # The batch's attempts, then its own attempts in the one-by-one fallback.
    assert int(headers[h.DLQ_ATTEMPTS]) == 2 * ready.retry_max_attempts
    scored = [orjson.loads(x.value) for x in records if x.topic == scored_t]
    assert sorted(v["lead_id"] for v in scored) == sorted(x.value["lead_id"] for x in fine)
    assert rows(ready, "SELECT count(*) FROM inbox WHERE event_id = %s",
                uuid.UUID(poison.value["event_id"])) == [(0,)]  # fmt: skip
    assert 'leads_processed_total{outcome="dead_lettered",service="scoring"} 1.0' in metrics
    assert 'leads_processed_total{outcome="ok",service="scoring"} 4.0' in metrics


async def test_batch_output_equals_one_by_one_output_byte_for_byte(
    ready: Settings, kit: Any, unique: str
) -> None:
    default, custom = f"default-{unique}", f"custom-{unique}"
    p = ready.topic_prefix
    scored_t, qualified_t = p + LEAD_SCORED.name, p + LEAD_QUALIFIED.name
    manager = kit.auth("manager", [custom])
    spec = default_rule_set().model_dump(mode="json") | {"threshold": 40}
    shapes = [STRONG, MIDDLE, WEAK, {}]
    inputs = [
        kit.lead_created(kit.make_lead(tenant, **shape))
        for shape in shapes
        for tenant in (default, custom)
    ]
    clock = FixedClock()
    published: dict[str, list[bytes]] = {}
    # The same inputs in two consumer groups (two inboxes): one by one, then as one batch.
    for group, batches in (("single", [[x] for x in inputs]), ("batched", [inputs])):
        settings = ready.model_copy(update={"consumer_group": f"{group}-{unique}"})
        with TestClient(create_app(settings, clock=clock)) as client:
            if group == "single":
                put = client.put(f"/v1/tenants/{custom}/scoring", json=spec, headers=manager)
                assert put.status_code == 201, put.text
            async with TopicReader(ready.kafka_bootstrap_servers, scored_t, qualified_t) as r:
                feed(client, settings, *batches)
                await r.wait_for(lambda x: len(x) >= 8, what="8 lead.scored at least")
                records = await r.drain()
        published[group] = [x.value for x in records]

    # The second reader sees both runs: every record of the first run exactly twice.
    single = Counter(published["single"])
    assert set(single.values()) == {1}
    assert Counter(published["batched"]) == Counter(dict.fromkeys(single, 2))
    # Both tenants, every lead scored, some qualified, some not.
    values = [orjson.loads(v) for v in single]
    assert Counter(v["event_type"] for v in values)["lead.scored"] == 8
    assert {v["tenant_id"] for v in values if v["event_type"] == "lead.qualified"} == {
        default, custom,
    }  # fmt: skip


async def test_each_lead_of_a_batch_stays_in_its_own_trace(
    ready: Settings, kit: Any, unique: str
) -> None:
    tenant, p = f"traced-{unique}", ready.topic_prefix
    scored_t, qualified_t = p + LEAD_SCORED.name, p + LEAD_QUALIFIED.name
    inputs = [kit.lead_created(kit.make_lead(tenant, **STRONG)) for _ in range(3)]
    with TestClient(create_app(ready)) as client:
        async with TopicReader(ready.kafka_bootstrap_servers, scored_t, qualified_t) as r:
            feed(client, ready, inputs)
            await r.wait_for(lambda x: len(x) >= 6, what="3 lead.scored and 3 lead.qualified")
            records = await r.drain()

    traces: dict[str, set[str]] = {}
    for record in records:
        lead_id = orjson.loads(record.value)["lead_id"]
        header = dict(record.headers)["traceparent"].decode()
        traces.setdefault(lead_id, set()).add(header.split("-")[1])
    assert traces == {x.value["lead_id"]: {uuid.UUID(x.value["lead_id"]).hex} for x in inputs}
