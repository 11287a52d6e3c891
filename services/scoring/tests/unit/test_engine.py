"""The engine's properties (hypothesis) and the shipped default rule set."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts import Lead, utcnow
from leadflow_scoring.domain.defaults import default_rule_set
from leadflow_scoring.domain.engine import score, weighted_total
from leadflow_scoring.domain.rules import Rule, RuleSet, Weights

FIELDS_AND_VALUES = {
    "title": ["CEO", "VP Sales", "Engineer", None],
    "country": ["US", "DE", "BR", None],
    "email": ["a@acme.io", "b@gmail.com", None],
    "company_size": [0, 12, 250, 5000, None],
    "tags": [[], ["demo"], ["pricing", "newsletter"]],
}

CONDITIONS: list[dict[str, Any]] = [
    {"kind": "regex", "field": "title", "pattern": "ceo|vp"},
    {"kind": "one_of", "field": "country", "values": ["US", "DE"]},
    {"kind": "free_email"},
    {"kind": "range", "field": "company_size", "min": 100},
    {"kind": "present", "field": "tags"},
    {"kind": "absent", "field": "title"},
    {"kind": "not", "condition": {"kind": "equals", "field": "country", "value": "BR"}},
]

leads = st.builds(
    lambda picks: Lead.model_validate(
        {"lead_id": uuid.UUID(int=7), "tenant_id": "t", "source": "generic",
         "received_at": utcnow(), **picks}
    ),
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS_AND_VALUES.items()}),
)  # fmt: skip
rules = st.lists(
    st.builds(
        lambda i, category, points, condition: Rule.model_validate(
            {"id": f"r{i}", "description": f"rule {i}", "category": category, "points": points,
             "condition": condition}
        ),
        st.integers(0, 10_000),
        st.sampled_from(["fit", "engagement"]),
        st.integers(-100, 100),
        st.sampled_from(CONDITIONS),
    ),
    max_size=25,
    unique_by=lambda rule: rule.id,
)  # fmt: skip
weights = st.builds(Weights, fit=st.integers(0, 100), engagement=st.integers(1, 100))


def rule_set(rule_list: list[Rule], w: Weights, threshold: int = 50) -> RuleSet:
    return RuleSet(rules=rule_list, weights=w, threshold=threshold, version=3)


@settings(max_examples=200, deadline=None)
@given(leads, rules, weights, st.integers(0, 100))
def test_scores_stay_within_0_and_100(
    lead: Lead, rule_list: list[Rule], w: Weights, threshold: int
) -> None:
    result = score(lead, rule_set(rule_list, w, threshold))
    assert 0 <= result.fit <= 100
    assert 0 <= result.engagement <= 100
    assert 0 <= result.total <= 100
    assert result.qualified is (result.total >= threshold)
    result.to_event()  # the contract (0-100 fields) accepts it


@settings(max_examples=200, deadline=None)
@given(leads, rules, weights, st.randoms(use_true_random=False))
def test_rule_order_does_not_matter(
    lead: Lead, rule_list: list[Rule], w: Weights, rnd: Any
) -> None:
    shuffled = list(rule_list)
    rnd.shuffle(shuffled)
    assert score(lead, rule_set(rule_list, w)) == score(lead, rule_set(shuffled, w))


@given(leads, weights)
def test_an_empty_rule_set_scores_zero(lead: Lead, w: Weights) -> None:
    result = score(lead, rule_set([], w, threshold=1))
    assert (result.total, result.fit, result.engagement, result.fired) == (0, 0, 0, ())
    assert not result.qualified


@settings(max_examples=200, deadline=None)
@given(leads, rules, weights)
def test_fired_points_sum_to_the_raw_scores(lead: Lead, rule_list: list[Rule], w: Weights) -> None:
    result = score(lead, rule_set(rule_list, w))
    fired = result.to_event().reasons
    assert sum(r.points for r in fired if r.category == "fit") == result.fit_raw
    assert sum(r.points for r in fired if r.category == "engagement") == result.engagement_raw
    assert sum(r.points for r in fired) == result.raw
    assert {r.rule_id for r in fired} == {r.id for r in rule_list if r.condition.matches(lead)}


def test_weighted_total_rounds_half_up_in_integers() -> None:
    assert weighted_total(80, 70, Weights(fit=60, engagement=40)) == 76
    assert weighted_total(1, 0, Weights(fit=1, engagement=1)) == 1  # 0.5 rounds up
    assert weighted_total(100, 0, Weights(fit=0, engagement=5)) == 0
    assert weighted_total(100, 100, Weights(fit=3, engagement=7)) == 100


def test_default_rule_set_explains_a_strong_and_a_weak_lead() -> None:
    defaults = RuleSet(**default_rule_set().model_dump(), version=1)
    strong = Lead.model_validate(
        {"lead_id": uuid.uuid4(), "tenant_id": "t", "source": "generic", "received_at": utcnow(),
         "title": "Chief Revenue Officer", "company_size": 1200, "email": "cro@bigco.com",
         "country": "US", "tags": ["demo-request"], "utm": {"medium": "cpc"}}
    )  # fmt: skip
    result = score(strong, defaults)
    assert result.qualified
    assert result.total == 72
    assert {r.id for r in result.fired} == {
        "title-c-level", "size-enterprise", "email-corporate", "country-target", "intent-tag",
        "utm-paid",
    }  # fmt: skip
    weak = strong.model_copy(
        update={"title": None, "company_size": 3, "email": "x@hotmail.com", "country": "BR",
                "tags": [], "utm": strong.utm.model_copy(update={"medium": None})}
    )  # fmt: skip
    result = score(weak, defaults)
    assert (result.total, result.fit_raw, result.qualified) == (0, -10, False)
    assert [r.id for r in result.fired] == ["email-free"]
