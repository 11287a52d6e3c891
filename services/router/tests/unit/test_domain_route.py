"""Pure routing decisions: filters, strategies, ties, time zones, account owners."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts.lead import Lead
from leadflow_router.domain.availability import within_working_hours
from leadflow_router.domain.model import Rep, RepLoad, Shift, Team, TeamState
from leadflow_router.domain.route import route
from leadflow_router.domain.rules import Condition, RoutingRule, RuleSet

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
RULES = RuleSet(version=3, default_team="sales")


def lead(**fields: Any) -> Lead:
    base: dict[str, Any] = {
        "lead_id": uuid.uuid4(),
        "tenant_id": "acme",
        "source": "generic",
        "received_at": AT,
    }
    return Lead(**(base | fields))


def team(*loads: RepLoad, **options: Any) -> TeamState:
    return TeamState(Team("sales", **options), loads)


def load(rep_id: str, **options: Any) -> RepLoad:
    state = {
        k: options.pop(k)
        for k in ("open_assignments", "last_assigned_at", "credit")
        if k in options
    }
    return RepLoad(Rep(rep_id, **options), **state)


def reasons(decision: Any) -> dict[str, str | None]:
    return {c.rep_id: c.excluded_reason for c in decision.candidates}


@pytest.mark.parametrize(
    ("rep", "reason"),
    [
        (load("r", active=False), "inactive"),
        (load("r", presence="away"), "not_available"),
        (load("r", presence="offline"), "not_available"),
        (load("r", working_hours={3: (Shift(time(13), time(17)),)}), "outside_working_hours"),
        (load("r", skills=frozenset({"lang:en"})), "missing_skill"),
        (load("r", capacity=2, open_assignments=2), "at_capacity"),
    ],
)
def test_each_hard_filter_excludes_with_its_reason(rep: RepLoad, reason: str) -> None:
    decision = route(
        lead(),
        50,
        RULES,
        team(
            rep,
            required_skills=frozenset({"lang:de"}) if reason == "missing_skill" else frozenset(),
        ),
        at=AT,
    )
    assert not decision.assigned
    assert reasons(decision) == {"r": reason}


def test_previously_assigned_reps_are_never_chosen_again() -> None:
    decision = route(lead(), 50, RULES, team(load("a"), load("b")), at=AT, exclude={"a"})
    assert decision.rep_id == "b"
    assert reasons(decision) == {"a": "previously_assigned", "b": None}


@pytest.mark.parametrize(
    ("loads", "failure"),
    [
        ((), "team_empty"),
        (
            (load("a", capacity=1, open_assignments=1), load("b", capacity=1, open_assignments=3)),
            "all_at_capacity",
        ),
        ((load("a", presence="away"), load("b", active=False)), "no_rep_available"),
        (
            (load("a", presence="away"), load("b", capacity=1, open_assignments=1)),
            "no_eligible_rep",
        ),
    ],
)
def test_failure_reason_summarizes_the_exclusions(loads: tuple[RepLoad, ...], failure: str) -> None:
    decision = route(lead(), 50, RULES, team(*loads), at=AT)
    assert decision.failure == failure
    assert decision.rep_id is None


def test_rules_first_match_wins_then_default_team_then_nothing() -> None:
    rules = RuleSet(
        version=7,
        rules=(
            RoutingRule(
                "dach",
                "dach",
                (Condition("country", "in", ["DE", "AT", "CH"]), Condition("score", "gte", 60)),
            ),
            RoutingRule(
                "big",
                "enterprise",
                (Condition("company_size", "gte", 1000),),
                frozenset({"product:enterprise"}),
            ),
            RoutingRule(
                "emea",
                "emea",
                (Condition("region", "eq", "emea"), Condition("tags", "contains", "VIP")),
            ),
        ),
        default_team="sales",
    )
    dach = TeamState(Team("dach"), (load("d"),))
    assert route(lead(country="DE", company_size=5000), 70, rules, dach, at=AT).rep_id == "d"
    big = TeamState(
        Team("enterprise"), (load("e1"), load("e2", skills=frozenset({"product:enterprise"})))
    )
    decided = route(lead(country="DE", company_size=5000), 50, rules, big, at=AT)
    assert (decided.rep_id, decided.rule_id, reasons(decided)["e1"]) == (
        "e2",
        "big",
        "missing_skill",
    )
    emea = TeamState(Team("emea"), (load("x"),))
    assert route(lead(country="FR", tags=["vip"]), 10, rules, emea, at=AT).team_id == "emea"
    fallback = route(lead(country="US"), 99, rules, team(load("s")), at=AT)
    assert (fallback.team_id, fallback.rule_id, fallback.rules_version) == ("sales", None, 7)
    nothing = route(lead(), 1, RuleSet(version=1), None, at=AT)
    assert (nothing.failure, nothing.team_id) == ("no_team_matched", None)


def test_least_loaded_then_longest_ago_then_rep_id() -> None:
    early, late = AT - timedelta(hours=5), AT - timedelta(hours=1)
    decision = route(
        lead(),
        50,
        RULES,
        team(
            load("a", open_assignments=2),
            load("b", open_assignments=1, last_assigned_at=late),
            load("c", open_assignments=1, last_assigned_at=early),
        ),
        at=AT,
    )
    assert (decision.rep_id, decision.strategy) == ("c", "least_loaded")
    assert reasons(decision) == {"a": "not_selected", "b": "not_selected", "c": None}
    never = route(lead(), 50, RULES, team(load("b", last_assigned_at=early), load("z")), at=AT)
    assert never.rep_id == "z"  # never assigned beats assigned long ago
    assert route(lead(), 50, RULES, team(load("b"), load("a")), at=AT).rep_id == "a"


def test_weighted_round_robin_over_10000_leads_matches_weights() -> None:
    weights = {"a": 5, "b": 3, "c": 1, "d": 1}
    credits = dict.fromkeys(weights, 0)
    wins: Counter[str] = Counter()
    for _ in range(10_000):
        loads = [load(r, weight=w, capacity=10**6, credit=credits[r]) for r, w in weights.items()]
        decision = route(lead(), 50, RULES, team(*loads, strategy="weighted_round_robin"), at=AT)
        assert decision.strategy == "weighted_round_robin"
        assert decision.rep_id
        wins[decision.rep_id] += 1
        credits.update(decision.credits)
    total = sum(weights.values())
    for rep_id, weight in weights.items():
        assert abs(wins[rep_id] / 10_000 - weight / total) < 0.02, (rep_id, wins)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=6), st.integers(1, 400))
def test_weighted_round_robin_never_strays_more_than_one_lead_from_its_share(
    weights: list[int], rounds: int
) -> None:
    credits = {f"r{i}": 0 for i in range(len(weights))}
    wins: Counter[str] = Counter()
    for _ in range(rounds):
        loads = [
            load(r, weight=w, credit=credits[r]) for r, w in zip(credits, weights, strict=True)
        ]
        decision = route(lead(), 50, RULES, team(*loads, strategy="weighted_round_robin"), at=AT)
        wins[decision.rep_id or ""] += 1
        credits.update(decision.credits)
    for rep_id, weight in zip(credits, weights, strict=True):
        assert abs(wins[rep_id] - rounds * weight / sum(weights)) <= len(weights)


def test_account_owner_gets_the_lead_when_eligible_else_fallback() -> None:
    reps = (load("owner", open_assignments=5), load("idle"))
    strategy = {"strategy": "account_owner", "fallback_strategy": "least_loaded"}
    owned = route(
        lead(email="x@corp.example"),
        50,
        RULES,
        team(*reps, **strategy),
        at=AT,
        account_owner="owner",
    )
    assert (owned.rep_id, owned.strategy) == ("owner", "account_owner")
    away = (load("owner", presence="away"), load("idle"))
    fallback = route(lead(), 50, RULES, team(*away, **strategy), at=AT, account_owner="owner")
    assert (fallback.rep_id, fallback.strategy) == ("idle", "least_loaded")
    plain = route(lead(), 50, RULES, team(*reps), at=AT, account_owner="owner")
    assert plain.rep_id == "idle"  # least-loaded teams ignore ownership


NINE_TO_FIVE = {d: (Shift(time(9), time(17)),) for d in range(1, 6)}


@pytest.mark.parametrize(
    ("zone", "utc", "inside"),
    [
        # New York: 09:00 local is 14:00 UTC in winter (EST) but 13:00 UTC in summer (EDT).
        ("America/New_York", datetime(2026, 1, 14, 13, 30, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 7, 15, 13, 30, tzinfo=UTC), True),
        # The US switch (8 March 2026) is before the EU one (29 March): 16:30 UTC on the
        # 10th is 17:30 in Berlin (closed) and 12:30 in New York (open).
        ("Europe/Berlin", datetime(2026, 3, 10, 16, 30, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 3, 10, 16, 30, tzinfo=UTC), True),
        # Berlin Monday 30 March, after the spring-forward night: 07:30 UTC = 09:30 CEST.
        ("Europe/Berlin", datetime(2026, 3, 30, 7, 30, tzinfo=UTC), True),
        ("Europe/Berlin", datetime(2026, 3, 23, 7, 30, tzinfo=UTC), False),  # 08:30 CET
        # Tokyo Friday 18:00 local is still Friday 09:00 UTC; Saturday is off.
        ("Asia/Tokyo", datetime(2026, 3, 6, 7, 0, tzinfo=UTC), True),
        ("Asia/Tokyo", datetime(2026, 3, 7, 1, 0, tzinfo=UTC), False),
        # Sydney Monday 09:30 local is Sunday 22:30 UTC.
        ("Australia/Sydney", datetime(2026, 3, 1, 22, 30, tzinfo=UTC), True),
    ],
)
def test_working_hours_follow_the_reps_time_zone_and_dst(
    zone: str, utc: datetime, inside: bool
) -> None:
    assert within_working_hours(Rep("r", time_zone=zone, working_hours=NINE_TO_FIVE), utc) is inside


def test_overnight_shift_runs_past_midnight() -> None:
    night = Rep("n", time_zone="UTC", working_hours={3: (Shift(time(22), time(6)),)})  # Wed 22-06
    assert within_working_hours(night, datetime(2026, 3, 4, 23, 0, tzinfo=UTC))
    assert within_working_hours(night, datetime(2026, 3, 5, 5, 59, tzinfo=UTC))  # Thu early
    assert not within_working_hours(night, datetime(2026, 3, 5, 6, 0, tzinfo=UTC))
    assert not within_working_hours(night, datetime(2026, 3, 4, 5, 0, tzinfo=UTC))  # Wed early
