"""The batch path of the ``lead.qualified`` consumer, against the real broker and
PostgreSQL: batches are handed to the consumer exactly as composed here (the same
``handle_batch`` FastStream calls with each fetched batch), then the topics and tables
are checked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from aiokafka import ConsumerRecord
from fastapi.testclient import TestClient
from leadflow_contracts import Envelope, derived_event_id, utcnow
from leadflow_contracts.topics import LEAD_ASSIGNED, LEAD_QUALIFIED
from leadflow_router.app import create_app
from leadflow_router.handlers.consume_qualified import QualifiedConsumer
from leadflow_router.settings import Settings
from servicekit.db import libpq_url
from servicekit.events import Outgoing
from servicekit.testing.helpers import TopicReader, consumer_record


class TickingClock:
    """Every reading is one second after the previous one (distinct decision times)."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def traceparent(envelope: Envelope[Any]) -> str:
    """A distinct upstream trace per lead (its trace id is the lead id)."""
    return f"00-{envelope.payload.lead.lead_id.hex}-{envelope.event_id.hex[:16]}-01"


def record(settings: Settings, envelope: Envelope[Any], offset: int) -> ConsumerRecord[Any, Any]:
    return consumer_record(
        settings.topic_prefix + LEAD_QUALIFIED.name,
        Outgoing.of(LEAD_QUALIFIED, envelope),
        offset,
        headers=[("traceparent", traceparent(envelope).encode())],
    )


def feed(client: TestClient, settings: Settings, clock: Any, *batches: list[Envelope[Any]]) -> None:
    """Hand each batch to a ``QualifiedConsumer`` on the app's runtime, in order."""
    ctx = client.app.state.router  # type: ignore[attr-defined]
    consumer = QualifiedConsumer(ctx.runtime, ctx.deps, clock, settings.consumer_group)
    offset = 0
    for batch in batches:
        records = [record(settings, e, offset + i) for i, e in enumerate(batch)]
        offset += len(batch)
        client.portal.call(consumer.handle_batch, records)  # type: ignore[union-attr]


def provision_two_teams(client: TestClient, kit: Any, slug: str, prefix: str) -> None:
    """EMEA (country DE): account owner, else weighted round robin (weights 3/2/1, one
    rep with capacity 2); AMER (default): least loaded; ``sam`` is in both teams."""
    h = kit.auth(tenants=[slug])
    teams = [
        {
            "team_id": "emea",
            "name": "EMEA",
            "strategy": "account_owner",
            "fallback_strategy": "weighted_round_robin",
        },
        {"team_id": "amer", "name": "AMER", "strategy": "least_loaded"},
    ]
    for body in teams:
        response = client.post(f"/v1/tenants/{slug}/teams", json=body, headers=h)
        assert response.status_code == 201, response.text
    reps = {
        "ann": {"weight": 3, "team_ids": ["emea"]},
        "bob": {"weight": 2, "team_ids": ["emea"], "capacity": 2},
        "sam": {"weight": 1, "team_ids": ["emea", "amer"]},
        "dan": {"weight": 1, "team_ids": ["amer"]},
    }
    for name, fields in reps.items():
        body = {"rep_id": f"{prefix}{name}", "name": name.title()} | fields
        response = client.post(f"/v1/tenants/{slug}/reps", json=body, headers=h)
        assert response.status_code == 201, response.text
    de = {"field": "country", "op": "eq", "value": "DE"}
    rules = {"rules": [{"rule_id": "de", "team_id": "emea", "conditions": [de]}]}
    response = client.put(
        f"/v1/tenants/{slug}/routing-rules", json=rules | {"default_team": "amer"}, headers=h
    )
    assert response.status_code == 200, response.text


def leads_for(kit: Any, slug: str, n: int) -> list[Envelope[Any]]:
    """A mix: German company leads (repeating domains → account owners), free mail, and
    leads for the default team."""
    envelopes = []
    for i in range(n):
        country = "US" if i % 4 == 3 else "DE"
        email = f"x{i}@gmail.com" if i % 5 == 4 else f"x{i}@corp{i % 3}.example"
        envelopes.append(kit.qualified(kit.lead(slug, email=email, country=country)))
    return envelopes


STATE_QUERIES = {
    "rotation": "SELECT team_id, rep_id, credit FROM rotation WHERE tenant = %s",
    "account_owners": "SELECT email_domain, rep_id FROM account_owners WHERE tenant = %s",
}


def rows(settings: Settings, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(settings.database_url)) as conn:
        return conn.execute(query, params).fetchall()


def decisions(settings: Settings, slug: str, prefix: str) -> list[tuple[str, str, str]]:
    """(team, rep without the tenant's prefix, strategy) per lead, in decision order."""
    found = rows(
        settings,
        "SELECT team_id, rep_id, strategy FROM assignments WHERE tenant = %s ORDER BY decided_at",
        slug,
    )
    return [(team, rep.removeprefix(prefix), strategy) for team, rep, strategy in found]


async def test_a_batch_decides_what_one_by_one_handling_decides(
    ready: Settings, kit: Any, make_slug: Callable[[str], str]
) -> None:
    one_by_one, batched = make_slug("single"), make_slug("batch")
    with TestClient(create_app(ready)) as client:
        provision_two_teams(client, kit, one_by_one, f"{one_by_one}-")
        provision_two_teams(client, kit, batched, f"{batched}-")
        singles = leads_for(kit, one_by_one, 24)
        feed(client, ready, TickingClock(), *[[e] for e in singles])
        together = leads_for(kit, batched, 24)
        feed(client, ready, TickingClock(), together)

    expected = decisions(ready, one_by_one, f"{one_by_one}-")
    assert len(expected) == 24
    assert decisions(ready, batched, f"{batched}-") == expected
    # The rotation pointer and the account owners end in the same state too.
    for table, query in STATE_QUERIES.items():
        states = [
            sorted(
                tuple(str(v).removeprefix(f"{slug}-") for v in row)
                for row in rows(ready, query, slug)
            )
            for slug in (one_by_one, batched)
        ]
        assert states[0] == states[1], table
    # Every strategy and both teams took part, and bob's capacity of 2 held.
    assert {d[0] for d in expected} == {"emea", "amer"}
    assert {d[2] for d in expected} >= {"account_owner", "weighted_round_robin", "least_loaded"}
    assert Counter(d[1] for d in expected)["bob"] == 2


async def test_weighted_rotation_split_is_the_one_by_one_split(
    ready: Settings, kit: Any, make_slug: Callable[[str], str]
) -> None:
    splits = []
    with TestClient(create_app(ready)) as client:
        for mode in ("single", "batch"):
            slug = make_slug(mode)
            weights = {
                name: {"weight": w, "capacity": 100}
                for name, w in [("ann", 3), ("bob", 2), ("cy", 1)]
            }
            kit.provision(
                client,
                slug,
                {f"{slug}-{name}": fields for name, fields in weights.items()},
                strategy="weighted_round_robin",
            )
            envelopes = [kit.qualified(kit.lead(slug)) for _ in range(30)]
            batches = [[e] for e in envelopes] if mode == "single" else [envelopes]
            feed(client, ready, TickingClock(), *batches)
            splits.append([rep for _, rep, _ in decisions(ready, slug, f"{slug}-")])
    assert splits[0] == splits[1]
    assert Counter(splits[1]) == {"ann": 15, "bob": 10, "cy": 5}


async def test_a_batch_with_duplicates_emits_one_outcome_per_lead(
    ready: Settings, kit: Any, make_slug: Callable[[str], str]
) -> None:
    slug = make_slug("dup")
    topic = ready.topic_prefix + LEAD_ASSIGNED.name
    a, b, c = (kit.qualified(kit.lead(slug)) for _ in range(3))
    # Another input event for lead a (not a redelivery): a has an outcome, nothing new.
    again = kit.qualified(a.payload.lead)
    with TestClient(create_app(ready)) as client:
        kit.provision(client, slug, {f"{slug}-ann": {}, f"{slug}-bob": {}})
        async with TopicReader(ready.kafka_bootstrap_servers, topic) as reader:
            feed(client, ready, TickingClock(), [a], [a, b, b, again, c])
            await reader.wait_for(lambda r: len(r) >= 4, what="a twice, b and c once")
            await reader.drain()
            events = [e for e in reader.values(topic) if e["tenant_id"] == slug]

    ids = Counter(e["event_id"] for e in events)
    expected = {derived_event_id(x.event_id, "lead.assigned") for x in (a, b, c)}
    assert set(ids) == {str(i) for i in expected}
    # a's redelivery re-emits the stored event: same id, byte-identical payload.
    first_a = [e for e in events if e["lead_id"] == str(a.lead_id)]
    assert len(first_a) == 2
    assert first_a[0] == first_a[1]
    assert ids[str(derived_event_id(b.event_id, "lead.assigned"))] == 1
    counts = rows(
        ready, "SELECT lead_id, count(*) FROM assignments WHERE tenant = %s GROUP BY 1", slug
    )
    assert sorted((str(lead), n) for lead, n in counts) == sorted(
        (str(x.lead_id), 1) for x in (a, b, c)
    )
    inbox = rows(ready, "SELECT count(*) FROM inbox WHERE event_id = %s", again.event_id)
    assert inbox == [(1,)]


async def test_a_poison_record_is_dead_lettered_alone_and_the_rest_assigned(
    ready: Settings, kit: Any, make_slug: Callable[[str], str]
) -> None:
    slug = make_slug("poison")
    assigned_topic = ready.topic_prefix + LEAD_ASSIGNED.name
    dlq_topic = ready.topic_prefix + LEAD_QUALIFIED.dlq
    good = [kit.qualified(kit.lead(slug)) for _ in range(4)]
    # PostgreSQL's JSONB cannot store NUL: every transaction that records this lead fails.
    poison = kit.qualified(kit.lead(slug, first_name="Nul\x00l"))
    batch = [*good[:2], poison, *good[2:]]
    with TestClient(create_app(ready)) as client:
        kit.provision(client, slug, {f"{slug}-ann": {}, f"{slug}-bob": {}})
        async with TopicReader(ready.kafka_bootstrap_servers, assigned_topic, dlq_topic) as reader:
            feed(client, ready, TickingClock(), batch)
            await reader.wait_for(lambda r: len(r) >= 5, what="4 assignments and 1 dead letter")
            await reader.drain()
            dead = reader.values(dlq_topic)
            assigned = [e for e in reader.values(assigned_topic) if e["tenant_id"] == slug]

    assert [d["event_id"] for d in dead] == [str(poison.event_id)]
    assert sorted(e["lead_id"] for e in assigned) == sorted(str(e.lead_id) for e in good)
    # One by one in batch order, least loaded alternates exactly as without the poison.
    assert Counter(e["payload"]["rep_id"] for e in assigned) == {f"{slug}-ann": 2, f"{slug}-bob": 2}
    assert rows(ready, "SELECT count(*) FROM inbox WHERE event_id = %s", poison.event_id) == [(0,)]


async def test_each_lead_of_a_batch_stays_in_its_own_trace(
    ready: Settings, kit: Any, make_slug: Callable[[str], str]
) -> None:
    slug = make_slug("traced")
    topic = ready.topic_prefix + LEAD_ASSIGNED.name
    envelopes = [kit.qualified(kit.lead(slug)) for _ in range(3)]
    with TestClient(create_app(ready)) as client:
        kit.provision(client, slug, {f"{slug}-ann": {}})
        async with TopicReader(ready.kafka_bootstrap_servers, topic) as reader:
            feed(client, ready, TickingClock(), envelopes)
            await reader.wait_for(lambda r: len(r) >= 3, what="3 assignments")
            records = await reader.drain()

    trace_of = {}
    for r in records:
        value = orjson.loads(r.value)
        if value["tenant_id"] == slug:
            header = dict(r.headers)["traceparent"].decode()
            trace_of[value["lead_id"]] = header.split("-")[1]
    assert trace_of == {str(e.lead_id): e.lead_id.hex for e in envelopes}
