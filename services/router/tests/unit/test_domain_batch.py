"""``BatchState``: deciding leads in memory, each decision updating what the next reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from leadflow_contracts.lead import Lead
from leadflow_router.domain.batch import BatchState
from leadflow_router.domain.model import Decision, Rep, RepLoad, Team, TeamState
from leadflow_router.domain.rules import Condition, RoutingRule, RuleSet

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
RULES = RuleSet(
    version=1,
    rules=(RoutingRule("de", "emea", (Condition("country", "eq", "DE"),)),),
    default_team="amer",
)


def lead(country: str) -> Lead:
    return Lead(
        lead_id=uuid.uuid4(), tenant_id="acme", source="generic", received_at=AT, country=country
    )


def state() -> BatchState:
    sam = Rep("sam", capacity=1)
    return BatchState(
        rules={"acme": RULES},
        teams={
            ("acme", "emea"): TeamState(Team("emea"), (RepLoad(sam), RepLoad(Rep("tia")))),
            ("acme", "amer"): TeamState(Team("amer"), (RepLoad(sam), RepLoad(Rep("ulf")))),
        },
    )


def test_a_rep_in_two_teams_carries_one_load_across_them() -> None:
    batch = state()
    first = lead("US")
    decided = batch.decide(first, 80, at=AT, domain=None)
    assert decided.rep_id == "sam"  # never assigned: first in the tie, before ulf
    batch.record(first, decided, at=AT, domain="bigcorp.example")
    # sam's only slot is taken, as the EMEA team now sees too.
    second = batch.decide(lead("DE"), 80, at=AT + timedelta(seconds=1), domain=None)
    assert second.rep_id == "tia"
    sam = next(c for c in second.candidates if c.rep_id == "sam")
    assert sam.excluded_reason == "at_capacity"
    assert batch.owners == {("acme", "bigcorp.example"): "sam"}


def test_a_work_item_changes_nothing_the_next_decision_reads() -> None:
    batch = state()
    before = dict(batch.teams)
    failed = Decision(1, "amer", None, (), failure="no_eligible_rep")
    batch.record(lead("FR"), failed, at=AT, domain="x.example")
    assert batch.teams == before
    assert batch.owners == {}
