"""Journey 5: nobody eligible → a work-queue item and ``lead.routing_failed``; a manager
claims it and assigns it through the API → ``lead.assigned`` with strategy ``manual``."""

from __future__ import annotations

from servicekit.testing.helpers import eventually


async def test_nobody_eligible_then_manager_assigns_manually(provision, api, bus, timeline) -> None:
    tenant = await provision()
    await api.qualify_everything(tenant.slug)
    slug = tenant.slug
    team = await api.create_team(slug, "nightshift", strategy="least_loaded")
    sam = await api.create_rep(slug, "sam", team, presence="away")
    tom = await api.create_rep(slug, "tom", team, presence="offline")
    await api.put_routing_rules(slug, default_team=team)

    lead_id, _ = await tenant.send_lead(tenant.lead("stranded"))
    [failed] = await bus.wait("lead.routing_failed", lead_id=lead_id)
    payload = failed.payload
    assert payload["reason"] == "no_rep_available"
    assert payload["team_id"] == team
    assert {c["rep_id"]: c["excluded_reason"] for c in payload["candidates"]} == {
        sam: "not_available",
        tom: "not_available",
    }
    item_id = payload["work_item_id"]

    async def listed() -> list:
        return [i for i in await api.work_queue(slug) if str(i["item_id"]) == item_id]

    [item] = await eventually(listed, timeout_s=10, what="the work-queue item")
    assert item["lead_id"] == str(lead_id)
    assert item["team_id"] == team
    assert item["reason"] == "no_rep_available"
    assert item["status"] == "waiting"

    claimed = await api.claim_work_item(slug, item_id)
    assert claimed["status"] == "claimed"
    assert claimed["claimed_by"] == "e2e-manager"
    result = await api.assign_work_item(slug, item_id, sam)
    assert result["assignment"]["rep_id"] == sam

    [assigned] = await bus.wait("lead.assigned", lead_id=lead_id)
    assert assigned.payload["strategy"] == "manual"
    assert assigned.payload["rep_id"] == sam
    assert assigned.payload["team_id"] == team
    assert assigned.payload["assignment_id"] == result["assignment"]["assignment_id"]
    assert assigned.payload["sla_due_at"] is not None
    assert await api.work_queue(slug) == []
    [done] = await api.work_queue(slug, status="assigned")
    assert str(done["item_id"]) == item_id
    assert str(done["assignment_id"]) == assigned.payload["assignment_id"]

    journey = [
        "lead.received",
        "lead.created",
        "lead.scored",
        "lead.qualified",
        "lead.routing_failed",
        "lead.assigned",
    ]
    # Audit reads every topic in one consumer: events of different topics can land in
    # either order, so wait for all of them (the timeline orders them by occurrence).
    story = await timeline(slug, lead_id, *journey)
    assert [e["event_type"] for e in story["events"]] == journey
    assert story["status"]["stage"] == "assigned"
    await bus.settle()
    assert len(bus.select("lead.assigned", lead_id=lead_id)) == 1
