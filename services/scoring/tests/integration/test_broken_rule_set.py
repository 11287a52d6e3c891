"""A tenant whose current rule set cannot be loaded: its leads go to the DLQ; a manager
PUTs a fix; replaying the dead letter (same event, same id) then scores the lead."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient
from leadflow_contracts import headers as h
from leadflow_contracts.topics import LEAD_CREATED, LEAD_SCORED
from leadflow_scoring.app import create_app
from leadflow_scoring.domain.defaults import default_rule_set
from leadflow_scoring.settings import Settings
from psycopg.types.json import Jsonb
from servicekit.db import libpq_url
from servicekit.testing.helpers import TopicReader

#: As a newer release (one that knows a ``sounds_like`` condition) would have stored it.
FROM_THE_FUTURE = [
    {"id": "title-sounds-like-ceo", "description": "Sounds like CEO", "category": "fit",
     "points": 30, "condition": {"kind": "sounds_like", "field": "title", "value": "ceo"}},
]  # fmt: skip


def store_version(url: str, tenant: str, rules: list[dict[str, object]]) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO rule_set_versions (tenant, version, rules, weights, threshold, created_by)"
            " VALUES (%s, 1, %s, %s, 50, 'scoring v9')",
            (tenant, Jsonb(rules), Jsonb({"fit": 1, "engagement": 1})),
        )


async def test_unloadable_rule_set_dead_letters_then_replay_after_fix_scores(
    ready: Settings, kit: Any, send: Any, unique: str
) -> None:
    p, tenant = ready.topic_prefix, f"broken-{unique}"
    created_t, scored_t = p + LEAD_CREATED.name, p + LEAD_SCORED.name
    dlq_t = p + LEAD_CREATED.dlq
    store_version(ready.database_url, tenant, FROM_THE_FUTURE)
    lead_in = kit.lead_created(kit.make_lead(tenant, title="CEO"))
    manager = kit.auth("manager", [tenant])
    with TestClient(create_app(ready)) as client:
        current = client.get(f"/v1/tenants/{tenant}/scoring", headers=manager).json()
        assert (current["version"], current["valid"]) == (1, False)
        assert current["errors"][0]["field"] == "rules[0].condition"
        assert current["errors"][0]["rule_id"] == "title-sounds-like-ceo"

        async with TopicReader(ready.kafka_bootstrap_servers, scored_t, dlq_t) as r:
            await send(created_t, lead_in.value_bytes(), lead_in.key.encode(), None)
            [dead] = await r.wait_for(lambda x: len(x) == 1, what="a dead letter")
            headers = {k: v.decode() for k, v in dead.headers}
            assert dead.topic == dlq_t
            assert headers[h.DLQ_EXCEPTION_CLASS].endswith("RuleSetUnavailable")
            assert "rule set version 1" in headers[h.DLQ_EXCEPTION_MESSAGE]
            assert int(headers[h.DLQ_ATTEMPTS]) == ready.retry_max_attempts

            fix = client.put(f"/v1/tenants/{tenant}/scoring", headers=manager,
                             json=default_rule_set().model_dump(mode="json"))  # fmt: skip
            assert fix.status_code == 201, fix.text
            assert (fix.json()["version"], fix.json()["valid"]) == (2, True)

            replay = [(k, v) for k, v in dead.headers if not k.startswith("x-dlq-")]
            replay.append((h.REPLAY_OF, f"{dlq_t}:{dead.partition}:{dead.offset}".encode()))
            await send(created_t, dead.value, dead.key, replay)
            await r.wait_for(lambda x: any(y.topic == scored_t for y in x), what="lead.scored")
            [scored] = r.values(scored_t)
        assert scored["causation_id"] == lead_in.value["event_id"]
        assert scored["payload"]["rules_version"] == 2
        assert scored["payload"]["reasons"][0]["rule_id"] == "title-c-level"
