"""Rule conditions, one operator at a time, and the invariants of every decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts.lead import Lead
from leadflow_router.domain.model import Rep, RepLoad, Team, TeamState
from leadflow_router.domain.route import route
from leadflow_router.domain.rules import Condition, RoutingRule, RuleSet, match_team

AT = datetime(2026, 3, 4, 12, tzinfo=UTC)
LEAD = Lead(
    lead_id=uuid.uuid4(),
    tenant_id="acme",
    source="ghl",
    email="ceo@corp.example",
    country="DE",
    industry="Software",
    company_size=250,
    language="de",
    title="VP Sales",
    tags=["vip", "Webinar"],
    received_at=AT,
)


@pytest.mark.parametrize(
    ("field", "op", "value", "matches"),
    [
        ("country", "eq", "de", True),
        ("country", "ne", "DE", False),
        ("country", "in", ["AT", "DE"], True),
        ("country", "not_in", ["AT", "DE"], False),
        ("region", "eq", "EMEA", True),
        ("industry", "eq", "software", True),
        ("company_size", "gte", 250, True),
        ("company_size", "lte", 100, False),
        ("score", "gte", 80, True),
        ("score", "lte", 79, False),
        ("source", "eq", "ghl", True),
        ("language", "in", ["de", "en"], True),
        ("tags", "contains", "webinar", True),
        ("tags", "in", ["partner", "VIP"], True),
        ("tags", "not_in", ["vip"], False),
        ("email_domain", "eq", "corp.example", True),
        ("title", "contains", "sales", True),
        ("utm_source", "exists", True, False),
        ("utm_source", "exists", False, True),
        ("utm_source", "eq", "google", False),  # a missing field never matches
        ("company_size", "gte", "big", False),  # incomparable types do not match
    ],
)
def test_each_condition_operator(field: str, op: Any, value: Any, matches: bool) -> None:
    rules = RuleSet(1, (RoutingRule("r", "hit", (Condition(field, op, value),)),), "miss")
    match = match_team(LEAD, 80, rules)
    assert match is not None
    assert (match.team_id == "hit") is matches


def test_custom_region_overrides_the_derived_one() -> None:
    lead = LEAD.model_copy(update={"custom": {"region": "DACH"}})
    rules = RuleSet(1, (RoutingRule("r", "dach", (Condition("region", "eq", "dach"),)),))
    assert match_team(lead, 0, rules) is not None
    assert match_team(LEAD, 0, rules) is None


reps = st.builds(
    RepLoad,
    rep=st.builds(
        Rep,
        rep_id=st.text("abcdef", min_size=1, max_size=3),
        skills=st.frozensets(st.sampled_from(["lang:de", "lang:en"])),
        capacity=st.integers(0, 3),
        weight=st.integers(1, 5),
        presence=st.sampled_from(["available", "away", "offline"]),
        active=st.booleans(),
    ),
    open_assignments=st.integers(0, 4),
    credit=st.integers(-10, 10),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(reps, max_size=6, unique_by=lambda r: r.rep.rep_id),
    st.sampled_from(["least_loaded", "weighted_round_robin", "account_owner"]),
    st.frozensets(st.sampled_from(["a", "b", "c"]), max_size=2),
)
def test_every_rep_is_a_candidate_and_only_the_chosen_one_is_not_excluded(
    loads: list[RepLoad], strategy: Any, exclude: frozenset[str]
) -> None:
    team = TeamState(
        Team("t", strategy=strategy, required_skills=frozenset({"lang:de"})), tuple(loads)
    )
    decision = route(
        LEAD, 50, RuleSet(1, default_team="t"), team, at=AT, account_owner="a", exclude=exclude
    )
    assert sorted(c.rep_id for c in decision.candidates) == sorted(r.rep.rep_id for r in loads)
    chosen = [c for c in decision.candidates if c.excluded_reason is None]
    if decision.rep_id is None:
        assert chosen == []
        assert decision.failure is not None
    else:
        assert [c.rep_id for c in chosen] == [decision.rep_id]
        rep = next(r for r in loads if r.rep.rep_id == decision.rep_id)
        assert rep.rep.active
        assert rep.rep.presence == "available"
        assert "lang:de" in rep.rep.skills
        assert rep.open_assignments < rep.rep.capacity
        assert decision.rep_id not in exclude
