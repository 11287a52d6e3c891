"""The scoring consumer on the real broker and database, driven like production:
``sales.lead.created`` in, ``lead.scored`` / ``lead.qualified`` out, admin API on the side."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from leadflow_contracts import derived_event_id
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_CREATED, LEAD_QUALIFIED, LEAD_SCORED
from leadflow_scoring.app import create_app
from leadflow_scoring.domain.defaults import default_rule_set
from leadflow_scoring.settings import Settings
from servicekit.testing.helpers import TopicReader

STRONG = {
    "title": "CEO", "company_size": 1200, "email": "ceo@bigco.example", "country": "US",
    "tags": ["demo-request"], "utm": {"source": "google", "medium": "cpc"},
}  # fmt: skip
WEAK = {"email": "someone@gmail.com", "country": "BR"}


def of_type(values: list[dict[str, Any]], lead_id: Any) -> list[dict[str, Any]]:
    return [v for v in values if v["lead_id"] == str(lead_id)]


async def test_scores_qualifies_dedupes_and_applies_a_new_version(
    ready: Settings, kit: Any, send: Any, unique: str
) -> None:
    p, tenant = ready.topic_prefix, f"acme-{unique}"
    scored_t, qualified_t, changed_t = (p + s.name for s in (LEAD_SCORED, LEAD_QUALIFIED,
                                                              CONFIG_CHANGED))  # fmt: skip
    manager, viewer = kit.auth("manager", [tenant]), kit.auth("viewer", [tenant])
    strong, weak = kit.make_lead(tenant, **STRONG), kit.make_lead(tenant, **WEAK)
    strong_in, weak_in = kit.lead_created(strong), kit.lead_created(weak)
    with TestClient(create_app(ready)) as client:
        async with TopicReader(
            ready.kafka_bootstrap_servers, scored_t, qualified_t, changed_t
        ) as r:
            for record in (strong_in, weak_in):
                await send(p + LEAD_CREATED.name, record.value_bytes(), record.key.encode(), None)
            await r.wait_for(lambda _: len(r.values(scored_t)) == 2, what="two lead.scored")
            await r.drain()
            [strong_scored] = of_type(r.values(scored_t), strong.lead_id)
            [weak_scored] = of_type(r.values(scored_t), weak.lead_id)
            [qualified] = r.values(qualified_t)  # the weak lead is only scored

            # Strong: qualified, with the reasons; ids derived from the cause.
            assert strong_scored["event_id"] == str(
                derived_event_id(uuid.UUID(strong_in.value["event_id"]), "lead.scored")
            )
            assert strong_scored["causation_id"] == strong_in.value["event_id"]
            assert strong_scored["correlation_id"] == strong_in.value["correlation_id"]
            payload = strong_scored["payload"]
            assert (payload["score"], payload["qualified"], payload["rules_version"]) == (
                72, True, 1,
            )  # fmt: skip
            assert {x["rule_id"] for x in payload["reasons"]} == {
                "title-c-level", "size-enterprise", "email-corporate", "country-target",
                "intent-tag", "utm-paid",
            }  # fmt: skip
            assert qualified["payload"]["score"] == payload
            assert qualified["payload"]["lead"] == strong_in.value["payload"]["lead"]
            assert weak_scored["payload"]["qualified"] is False
            assert weak_scored["payload"]["reasons"][0]["rule_id"] == "email-free"

            # Redelivery of the strong lead: the stored events again, byte for byte.
            seen = {v["event_id"] for v in r.values()}
            await send(p + LEAD_CREATED.name, strong_in.value_bytes(), strong_in.key.encode(), None)
            await r.wait_for(lambda _: len(r.values(qualified_t)) == 2, what="re-published pair")
            await r.drain()
            assert {v["event_id"] for v in r.values()} == seen
            assert r.values(qualified_t)[1] == qualified
            assert of_type(r.values(scored_t), strong.lead_id)[1] == strong_scored

            # Preview with the same lead and version returns exactly the emitted payload.
            lead_json = strong_in.value["payload"]["lead"]
            preview = client.post(f"/v1/tenants/{tenant}/score:preview?version=1",
                                  json=lead_json, headers=viewer)  # fmt: skip
            assert preview.status_code == 200, preview.text
            assert preview.json()["scored"] == payload
            assert preview.json()["would_emit"] == ["lead.scored", "lead.qualified"]

            # A manager's new version applies to the next lead, which names it.
            spec = default_rule_set().model_dump(mode="json")
            spec |= {"weights": {"fit": 100, "engagement": 0}, "threshold": 90}
            put = client.put(f"/v1/tenants/{tenant}/scoring", json=spec, headers=manager)
            assert put.status_code == 201, put.text
            assert put.json()["version"] == 2
            assert put.headers["location"] == f"/v1/tenants/{tenant}/scoring/versions/2"
            again = client.put(f"/v1/tenants/{tenant}/scoring", json=spec, headers=manager)
            assert (again.status_code, again.json()["version"]) == (200, 2)  # no new version
            await r.wait_for(lambda _: bool(r.values(changed_t)), what="config.changed")
            [changed] = r.values(changed_t)
            assert changed["tenant_id"] == tenant
            assert changed["payload"]["before"]["version"] == 1
            assert changed["payload"]["after"]["version"] == 2
            assert changed["payload"]["actor"] == "test-manager"

            later = kit.make_lead(tenant, **STRONG)
            later_in = kit.lead_created(later)
            await send(p + LEAD_CREATED.name, later_in.value_bytes(), later_in.key.encode(), None)
            await r.wait_for(lambda _: bool(of_type(r.values(scored_t), later.lead_id)))
            await r.drain()
            [later_scored] = of_type(r.values(scored_t), later.lead_id)
            assert later_scored["payload"]["rules_version"] == 2
            assert (later_scored["payload"]["score"], later_scored["payload"]["qualified"]) == (
                80, False,
            )  # fmt: skip
            assert not of_type(r.values(qualified_t), later.lead_id)
            later_json = later_in.value["payload"]["lead"]
            preview = client.post(
                f"/v1/tenants/{tenant}/score:preview", json=later_json, headers=viewer
            )
            assert preview.json()["scored"] == later_scored["payload"]
            assert preview.json()["would_emit"] == ["lead.scored"]
            assert len(r.values(scored_t)) == 4  # previews emitted nothing

        metrics = client.get("/metrics").text
        assert 'leads_scored_total{outcome="qualified"} 1.0' in metrics
        assert 'leads_scored_total{outcome="not_qualified"} 2.0' in metrics
        assert 'stage_latency_seconds_count{service="scoring",stage="lead.scored"} 3.0' in metrics
