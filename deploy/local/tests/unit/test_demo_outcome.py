"""The demo's reading of a lead's timeline into an outcome, and its table (no I/O)."""

from __future__ import annotations

from typing import Any

from leadflow_local.demo.outcome import Result, mismatches, observe
from leadflow_local.demo.run import DemoReport, LeadReport
from leadflow_local.demo.story import LEADS, TENANT_BY_SLUG
from leadflow_local.demo.table import render

BY_KEY = {lead.key: lead for lead in LEADS}


def _event(event_type: str, **payload: Any) -> dict[str, Any]:
    return {"event_type": event_type, "payload": payload}


def _scored(score: int, qualified: bool, *rule_ids: str) -> dict[str, Any]:
    reasons = [{"rule_id": r, "description": r.title(), "points": 10} for r in rule_ids]
    return _event("lead.scored", score=score, qualified=qualified, reasons=reasons)


def _assigned(rep: str, strategy: str = "least_loaded") -> dict[str, Any]:
    return _event("lead.assigned", rep_id=rep, team_id="t", strategy=strategy, assignment_id="a")


START = [_event("lead.received"), _event("lead.created", lead={"duplicate_of": None})]


def test_no_events_is_not_received_and_a_pending_dead_letter_is_dead_lettered() -> None:
    assert observe([], []).outcome == "not received"
    assert observe(START, []).outcome == "received"
    assert observe(START, [{"status": "pending"}]).outcome == "dead-lettered"


def test_an_unqualified_lead_is_a_duplicate_when_ingest_marked_it() -> None:
    plain = observe([*START, _scored(10, False, "free-email")], [])
    assert plain.outcome == "unqualified"
    assert plain.reasons[0][0] == "free-email"
    marked = [START[0], _event("lead.created", lead={"duplicate_of": "x"}), _scored(0, False)]
    assert observe(marked, []).outcome == "duplicate"


def test_assignment_outcomes_depend_on_what_came_before() -> None:
    scored = [*START, _scored(80, True), _event("lead.qualified")]
    assert observe([*scored, _assigned("r1")], []).outcome == "assigned"
    queued = [*scored, _event("lead.routing_failed")]
    assert observe(queued, []).outcome == "in work queue"
    assert observe([*queued, _assigned("r1")], []).outcome == "work_queue_assigned"
    replayed = observe([*scored, _assigned("r2")], [{"status": "replayed"}])
    assert (replayed.outcome, replayed.rep_id) == ("dlq_replayed", "r2")
    moved = _event("lead.reassigned", rep_id="r2", previous_rep_id="r1", team_id="t")
    result = observe([*scored, _assigned("r1"), _event("lead.sla_breached"), moved], [])
    assert (result.outcome, result.rep_id, result.previous_rep_id) == ("reassigned", "r2", "r1")


def test_mismatches_name_what_differs_from_the_story() -> None:
    lead = BY_KEY["skill"]
    want = lead.expected
    good = observe(
        [*START, _scored(78, True, *want.reasons), _assigned(str(want.rep_id), "least_loaded")],
        [],
    )
    assert mismatches(lead, good) == [f"team_id t, expected {want.team_id}"]
    wrong = observe([*START, _scored(78, True), _assigned("someone-else")], [])
    problems = mismatches(lead, wrong)
    assert f"rep_id someone-else, expected {want.rep_id}" in problems
    assert any(p.startswith("missing score reasons") for p in problems)
    sla = BY_KEY["sla"]
    same = _event("lead.reassigned", rep_id="r1", previous_rep_id="r1", team_id="t")
    assert "reassigned to the same rep" in mismatches(
        sla, observe([*START, _scored(78, True), same], [])
    )


def _report(changes: tuple[str, ...], *, break_one: bool) -> DemoReport:
    """Every lead as the story expects it, but ``owner`` stuck in the work queue."""
    rows = []
    for lead in LEADS:
        want = lead.expected
        outcome = "in work queue" if break_one and lead.key == "owner" else want.outcome
        result = Result(
            outcome,
            score=50,
            reasons=tuple((r, r.title(), 10) for r in want.reasons),
            rep_id=want.rep_id,
            team_id=want.team_id,
            strategy=want.strategy,
        )
        rows.append(LeadReport.of(lead, result, "http://console.test/"))
    return DemoReport(tuple(rows), changes)


def test_the_table_lists_every_lead_and_says_whether_anything_changed() -> None:
    repeat = render(_report((), break_one=False), width=400)
    for lead in LEADS:
        assert f"http://console.test/leads/{lead.lead_id}" in repeat
    assert "10/10 leads reached the outcome the story expects" in repeat
    assert "Nothing changed" in repeat
    first = render(_report(("created x", "sent y"), break_one=True), width=400)
    assert "9/10 leads" in first
    assert "changed 2 thing(s)" in first
    assert "✗ in work queue" in first
    assert "outcome in work queue, expected assigned" in first


def test_the_story_is_consistent() -> None:
    assert len(LEADS) == 10
    assert len({lead.lead_id for lead in LEADS}) == 10
    for lead in LEADS:
        tenant = TENANT_BY_SLUG[lead.tenant]
        reps = {rep.rep_id for rep in tenant.reps}
        teams = {team.team_id for team in tenant.teams}
        assert lead.expected.rep_id is None or lead.expected.rep_id in reps, lead.key
        assert lead.expected.team_id is None or lead.expected.team_id in teams, lead.key
    for tenant in TENANT_BY_SLUG.values():
        teams = {team.team_id for team in tenant.teams}
        assert {rep.team_id for rep in tenant.reps} <= teams
        assert {rule["team_id"] for rule in tenant.routing_rules} | {tenant.default_team} <= teams
    assert len({t.tier.name for t in TENANT_BY_SLUG.values()}) == 2


def test_the_embedded_postgres_is_found_by_its_postmaster_pid(tmp_path) -> None:
    from leadflow_local.demo.command import embedded_postgres_url

    assert embedded_postgres_url(tmp_path) is None
    (tmp_path / "postgres").mkdir()
    pid = tmp_path / "postgres" / "postmaster.pid"
    pid.write_text(f"4242\n{tmp_path}/postgres\n1764770000\n34867\n/tmp\n127.0.0.1\n")
    assert embedded_postgres_url(tmp_path) == "postgresql://postgres@127.0.0.1:34867/postgres"
    pid.write_text("4242\n")
    assert embedded_postgres_url(tmp_path) is None
