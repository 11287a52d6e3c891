"""``lead.qualified`` → exactly one ``lead.assigned`` per lead, against the real broker
and PostgreSQL: redelivered messages, two router replicas in one consumer group, and a
preview that predicts the pipeline's decision."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from leadflow_contracts import derived_event_id
from leadflow_contracts.topics import LEAD_ASSIGNED
from leadflow_router.app import create_app
from leadflow_router.settings import Settings
from servicekit.db import libpq_url
from servicekit.testing.helpers import TopicReader


async def test_each_lead_is_assigned_once_across_redelivery_and_two_replicas(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    slug = make_slug("acme")
    assigned_topic = ready.topic_prefix + LEAD_ASSIGNED.name
    with TestClient(create_app(ready)) as one, TestClient(create_app(ready)) as two:
        kit.provision(one, slug, {"ann": {"weight": 1}, "bob": {"weight": 1}})
        first = kit.lead(slug, email="cto@bigcorp.example", country="DE")
        posted = {"lead": first.model_dump(mode="json"), "score": 80}
        preview = one.post(f"/v1/tenants/{slug}/route:preview", json=posted, headers=kit.manager)
        assert preview.status_code == 200, preview.text
        predicted = preview.json()

        leads = [first] + [kit.lead(slug) for _ in range(7)]
        envelopes = [kit.qualified(lead) for lead in leads]
        async with TopicReader(ready.kafka_bootstrap_servers, assigned_topic) as reader:
            # The first lead alone (delivered twice), so the preview's state is the
            # pipeline's; then the others, with the first one replayed once more.
            await kit.publish(ready, envelopes[0], envelopes[0])
            await reader.wait_for(lambda r: len(r) >= 1, what="the first assignment")
            await kit.publish(ready, *envelopes[1:], envelopes[0])
            await reader.wait_for(
                lambda r: len({x.key for x in r}) == len(leads), what="every lead assigned"
            )
            await reader.drain()
            events = reader.values(assigned_topic)
        nothing_emitted = two.post(
            f"/v1/tenants/{slug}/route:preview", json=posted, headers=kit.manager
        )
        assert nothing_emitted.status_code == 200

    by_lead: dict[str, set[str]] = {}
    for event in events:
        by_lead.setdefault(event["lead_id"], set()).add(event["event_id"])
    assert {len(ids) for ids in by_lead.values()} == {1}, by_lead
    head = next(e for e in events if e["lead_id"] == str(first.lead_id))
    assert head["event_id"] == str(derived_event_id(envelopes[0].event_id, "lead.assigned"))
    assert head["causation_id"] == str(envelopes[0].event_id)
    assert head["correlation_id"] == envelopes[0].correlation_id
    payload = head["payload"]
    # The preview ran the same code on the same state: same rep, strategy, candidates.
    assert (payload["rep_id"], payload["strategy"]) == (predicted["rep_id"], predicted["strategy"])
    assert payload["candidates"] == predicted["candidates"]
    assert payload["rules_version"] == predicted["rules_version"] == 1
    # Least-loaded alternates between the two reps: 8 leads → 4 each (re-emitted
    # duplicates of the first lead's event carry the same id, so they count once).
    unique = {e["event_id"]: e["payload"]["rep_id"] for e in events}
    assert Counter(unique.values()) == {"ann": 4, "bob": 4}

    with psycopg.connect(libpq_url(ready.database_url)) as conn:
        rows = conn.execute("SELECT lead_id, count(*) FROM assignments GROUP BY lead_id").fetchall()
        owners = conn.execute("SELECT email_domain, rep_id FROM account_owners").fetchall()
    assert sorted(str(r[0]) for r in rows) == sorted(str(lead.lead_id) for lead in leads)
    assert {r[1] for r in rows} == {1}
    assert owners == [("bigcorp.example", payload["rep_id"])]
    assert uuid.UUID(payload["assignment_id"])
