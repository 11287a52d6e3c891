"""Journey 3: a qualified lead goes to the one rep who is available, skilled and under
capacity; the assignment lists every other candidate with the reason it was excluded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.support.evidence import criterion

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours_excluding_now() -> dict[str, list[list[str]]]:
    """A one-hour shift every day that starts two hours from now (UTC)."""
    start = (datetime.now(UTC) + timedelta(hours=2)).hour
    shift = [f"{start:02d}:00", f"{(start + 1) % 24:02d}:00"]
    return {day: [shift] for day in WEEKDAYS}


def _candidates(message) -> dict[str, str | None]:
    return {c["rep_id"]: c["excluded_reason"] for c in message.payload["candidates"]}


async def test_assigned_to_the_only_eligible_rep_with_exclusions(
    provision, api, bus, timeline
) -> None:
    tenant = await provision(sla_minutes=30)
    await api.qualify_everything(tenant.slug)
    slug = tenant.slug
    team = await api.create_team(
        slug, "de-inbound", strategy="least_loaded", required_skills=["lang:de"]
    )
    general = await api.create_team(slug, "general", strategy="least_loaded")
    await api.create_rep(slug, "gina", general)  # available, but in the other team
    anna = await api.create_rep(slug, "anna", team, skills=["lang:de"], capacity=1)
    ben = await api.create_rep(slug, "ben", team, skills=["lang:de"], presence="away")
    carl = await api.create_rep(slug, "carl", team, skills=["lang:fr"])
    dora = await api.create_rep(slug, "dora", team, skills=["lang:de"], active=False)
    emil = await api.create_rep(
        slug, "emil", team, skills=["lang:de"], working_hours=_hours_excluding_now()
    )
    rules = await api.put_routing_rules(
        slug,
        default_team=general,
        rules=[
            {
                "rule_id": "dach",
                "team_id": team,
                "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
            }
        ],
    )
    always_excluded = {
        ben: "not_available",
        carl: "missing_skill",
        dora: "inactive",
        emil: "outside_working_hours",
    }

    # First lead: Anna is the only one available, skilled and under capacity.
    first_id, _ = await tenant.send_lead(tenant.lead("first", country="Germany"))
    [first] = await bus.wait("lead.assigned", lead_id=first_id)
    assert first.payload["rep_id"] == anna
    assert first.payload["team_id"] == team
    assert first.payload["strategy"] == "least_loaded"
    assert first.payload["rules_version"] == rules["version"]
    criterion("J3.1")
    assert _candidates(first) == {anna: None} | always_excluded
    criterion("J3.2")

    # Second lead: Anna is now at capacity (1 open assignment); Fritz joined the team.
    fritz = await api.create_rep(slug, "fritz", team, skills=["lang:de", "product:core"])
    second_id, _ = await tenant.send_lead(tenant.lead("second", country="AT"))
    [second] = await bus.wait("lead.assigned", lead_id=second_id)
    payload = second.payload
    assert payload["rep_id"] == fritz
    assert _candidates(second) == {fritz: None, anna: "at_capacity"} | always_excluded
    anna_seen = next(c for c in payload["candidates"] if c["rep_id"] == anna)
    assert anna_seen["open_assignments"] == 1
    occurred = datetime.fromisoformat(second.value["occurred_at"])
    due = datetime.fromisoformat(payload["sla_due_at"])
    assert (
        timedelta(minutes=30) - timedelta(seconds=5)
        <= due - occurred
        <= timedelta(minutes=30, seconds=5)
    )
    criterion("J3.3")

    # The manager sees the same decision in the router and in the audit timeline.
    [row] = await api.assignments(slug, lead_id=str(second_id))
    assert row["rep_id"] == fritz
    assert str(row["assignment_id"]) == payload["assignment_id"]
    assert {c["rep_id"]: c["excluded_reason"] for c in row["candidates"]} == _candidates(second)
    story = await timeline(slug, second_id, "lead.assigned")
    decision = story["events"][-1]
    assert decision["event_type"] == "lead.assigned"
    assert decision["payload"]["candidates"] == payload["candidates"]
    for rep, reason in always_excluded.items():
        assert f"{rep}: {reason}" in decision["summary"]
    criterion("J3.4")
