"""Journey 9: the poison path. A tenant's current scoring rule set cannot be loaded (a
version written by a newer release, with a condition kind this release does not know),
so scoring retries and dead-letters ``sales.lead.created``. The operator sees the dead
letter with its context; the manager fixes the rule set through the scoring API; the
operator replays through the dlq API; the lead then completes exactly once — and a
second replay changes nothing downstream."""

from __future__ import annotations

from servicekit.testing.helpers import eventually


async def test_poison_lead_dead_lettered_fixed_replayed_completes_once(
    provision, api, bus, timeline, deployment, unloadable_rule_set
) -> None:
    tenant = await provision()
    good_version = await api.qualify_everything(tenant.slug)
    team = await api.create_team(tenant.slug, "poison", strategy="least_loaded")
    rep = await api.create_rep(tenant.slug, "paula", team)
    await api.put_routing_rules(tenant.slug, default_team=team)
    broken_version = await unloadable_rule_set(tenant.slug)
    assert broken_version == good_version + 1
    current = await api.get_scoring(tenant.slug)
    assert current["version"] == broken_version
    assert current["valid"] is False
    assert any(e.get("rule_id") == "intent-model" for e in current["errors"]), current

    lead_id, correlation_id = await tenant.send_lead(tenant.lead("poison"))

    # Scoring gave up after its retries and dead-lettered the record with its context.
    [dead] = await bus.wait("sales.lead.created.dlq", lead_id=lead_id)
    assert dead.headers["x-dlq-original-topic"] == "sales.lead.created"
    assert dead.headers["x-dlq-consumer-group"] == "scoring"
    assert dead.headers["x-dlq-exception-class"].endswith("RuleSetUnavailable")
    assert "intent_model" in dead.headers["x-dlq-exception-message"]
    if not deployment.live:
        assert dead.headers["x-dlq-attempts"] == "4"  # LEADFLOW_RETRY_MAX_ATTEMPTS
    assert dead.value["event_type"] == "lead.created"
    assert dead.value["correlation_id"] == correlation_id
    assert not bus.select("lead.scored", lead_id=lead_id)

    # The operator finds it in the dlq service, pending, with the same context.
    async def listed() -> list:
        return await api.dead_letters(tenant.slug, tenant=tenant.slug, status="pending")

    [item] = await eventually(listed, timeout_s=30, what="the dead letter in the dlq service")
    record = await api.dead_letter(tenant.slug, item["id"])
    assert record["status"] == "pending"
    assert record["original_topic"] == "sales.lead.created"
    assert record["original_partition"] == int(dead.headers["x-dlq-original-partition"])
    assert record["original_offset"] == int(dead.headers["x-dlq-original-offset"])
    assert record["consumer_group"] == "scoring"
    assert record["exception_class"].endswith("RuleSetUnavailable")
    assert record["lead_id"] == str(lead_id)
    assert record["tenant_id"] == tenant.slug
    assert record["event_id"] == dead.value["event_id"]
    assert record["dlq"] == {
        "topic": "sales.lead.created.dlq",
        "partition": dead.partition,
        "offset": dead.offset,
    }
    assert "intent_model" in record["exception_message"]
    assert record["attempts"] == int(dead.headers["x-dlq-attempts"])
    assert record["value"]["json"] == dead.value
    assert [h["action"] for h in record["history"]] == ["received"]
    # ... and the audit trail shows the lead stopped after lead.created.
    story = await timeline(tenant.slug, lead_id, "lead.received", "lead.created")
    assert [e["event_type"] for e in story["events"]] == ["lead.received", "lead.created"]
    stuck = await api.json(
        "audit",
        "GET",
        "/v1/leads:stuck",
        params={"older_than": 0, "tenant": tenant.slug},
        role="viewer",
        tenant=tenant.slug,
    )
    assert str(lead_id) in {lead["lead_id"] for lead in stuck["leads"]}

    # The manager fixes the rule set; the operator replays; the journey completes.
    fixed = await api.qualify_everything(tenant.slug)
    assert fixed == broken_version + 1
    replayed = await api.replay_dead_letter(tenant.slug, item["id"])
    assert replayed["status"] == "replayed"
    [scored] = await bus.wait("lead.scored", lead_id=lead_id)
    assert scored.payload["rules_version"] == fixed
    [assigned] = await bus.wait("lead.assigned", lead_id=lead_id)
    assert assigned.payload["rep_id"] == rep
    replays = bus.select("sales.lead.created", lead_id=lead_id)
    assert any("x-replay-of" in m.headers for m in replays), "replay must be marked"

    # A second replay is absorbed: exactly one score, one qualification, one assignment.
    again = await api.replay_dead_letter(tenant.slug, item["id"])
    assert again["replay_count"] == 2
    assert [h["action"] for h in again["history"]] == ["received", "replayed", "replayed"]
    assert {h["actor"] for h in again["history"][1:]} == {"e2e-operator"}
    # The original record and two replays, all with one event id.
    created = await bus.wait("sales.lead.created", lead_id=lead_id, count=3, distinct=False)
    assert len({m.value["event_id"] for m in created}) == 1
    await bus.settle(quiet_s=3.0)
    for topic in ("lead.scored", "lead.qualified", "lead.assigned"):
        ids = {m.value["event_id"] for m in bus.select(topic, lead_id=lead_id)}
        assert len(ids) == 1, (topic, ids)
    assert not bus.select("lead.routing_failed", lead_id=lead_id)
    journey = ["lead.received", "lead.created", "lead.scored", "lead.qualified", "lead.assigned"]
    story = await timeline(tenant.slug, lead_id, *journey)  # all of them: see test_05
    assert [e["event_type"] for e in story["events"]] == journey
