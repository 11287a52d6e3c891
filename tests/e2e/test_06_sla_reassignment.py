"""Journey 6: an assignment not acknowledged within the tier's SLA (1 minute here) is
reassigned to a different rep, with ``lead.sla_breached`` and ``lead.reassigned``; an
acknowledged one is left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

SLA = timedelta(minutes=1)
#: The SLA itself plus the router's check interval and the pipeline's latency.
SLA_WAIT_S = 60 + 45


async def test_unacknowledged_assignment_is_reassigned_to_another_rep(
    provision, api, bus, timeline
) -> None:
    tenant = await provision(sla_minutes=1)
    await api.qualify_everything(tenant.slug)
    slug = tenant.slug
    team = await api.create_team(slug, "fast", strategy="least_loaded")
    reps = {await api.create_rep(slug, name, team) for name in ("uma", "vic")}
    await api.put_routing_rules(slug, default_team=team)

    acked_id, _ = await tenant.send_lead(tenant.lead("acked"))
    [acked] = await bus.wait("lead.assigned", lead_id=acked_id)
    ignored_id, _ = await tenant.send_lead(tenant.lead("ignored"))
    [ignored] = await bus.wait("lead.assigned", lead_id=ignored_id)
    first_rep = ignored.payload["rep_id"]
    assert {acked.payload["rep_id"], first_rep} == reps, "least-loaded spreads the two leads"
    for assigned in (acked, ignored):
        [row] = await api.assignments(slug, lead_id=assigned.value["lead_id"])
        assert row["assignment_id"] == assigned.payload["assignment_id"]
        due = datetime.fromisoformat(assigned.payload["sla_due_at"])
        assert due == datetime.fromisoformat(row["sla_due_at"])
        assert due - datetime.fromisoformat(row["decided_at"]) == SLA
    await api.ack_assignment(slug, acked.payload["assignment_id"])

    [breached] = await bus.wait("lead.sla_breached", lead_id=ignored_id, timeout_s=SLA_WAIT_S)
    [moved] = await bus.wait("lead.reassigned", lead_id=ignored_id, timeout_s=15)
    b, m = breached.payload, moved.payload
    assert b["assignment_id"] == ignored.payload["assignment_id"]
    assert b["rep_id"] == first_rep
    assert datetime.fromisoformat(b["sla_due_at"]) == datetime.fromisoformat(
        ignored.payload["sla_due_at"]
    )
    assert datetime.fromisoformat(b["breached_at"]) >= datetime.fromisoformat(b["sla_due_at"])
    assert m["previous_assignment_id"] == ignored.payload["assignment_id"]
    assert m["previous_rep_id"] == first_rep
    assert m["rep_id"] in reps - {first_rep}
    assert m["assignment_id"] != ignored.payload["assignment_id"]
    assert m["reason"] == "sla_breached"
    assert m["team_id"] == team
    reasons = {c["rep_id"]: c["excluded_reason"] for c in m["candidates"]}
    assert reasons[first_rep] == "previously_assigned"
    assert reasons[m["rep_id"]] is None
    assert datetime.fromisoformat(m["sla_due_at"]) > datetime.fromisoformat(b["breached_at"])
    assert breached.value["causation_id"] == ignored.value["event_id"]
    assert moved.value["causation_id"] == breached.value["event_id"]
    # The new owner acknowledges in time: no further breach.
    await api.ack_assignment(slug, m["assignment_id"])

    story = await timeline(
        slug, ignored_id, "lead.assigned", "lead.sla_breached", "lead.reassigned"
    )
    assert [e["event_type"] for e in story["events"]][-3:] == [
        "lead.assigned",
        "lead.sla_breached",
        "lead.reassigned",
    ]
    assert story["status"]["stage"] == "reassigned"
    # The acknowledged assignment was never breached.
    assert not bus.select("lead.sla_breached", lead_id=acked_id)
    assert not bus.select("lead.reassigned", lead_id=acked_id)
