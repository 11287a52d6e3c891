"""The lead-status projection: stages, no regression, order independence (pure, fast)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from leadflow_audit.domain.stages import LeadStatus, Stage, StageEvent, fold, merge, stage_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEAD = uuid.UUID(int=1)


@pytest.mark.parametrize(
    ("event_type", "payload", "stage"),
    [
        ("lead.received", {}, Stage.received),
        ("lead.created", {}, Stage.created),
        ("lead.scored", {"qualified": True}, Stage.scored),
        ("lead.scored", {"qualified": False}, Stage.not_qualified),
        ("lead.qualified", {}, Stage.qualified),
        ("lead.routing_failed", {}, Stage.in_work_queue),
        ("lead.assigned", {}, Stage.assigned),
        ("lead.sla_breached", {}, Stage.sla_breached),
        ("lead.reassigned", {}, Stage.reassigned),
        ("config.changed", {}, None),
    ],
)
def test_stage_of_each_event(event_type: str, payload: dict[str, Any], stage: Stage) -> None:
    assert stage_of(event_type, payload) == stage


def event(event_type: str, seconds: int, qualified: bool = True) -> StageEvent:
    return StageEvent(
        event_id=uuid.uuid5(LEAD, f"{event_type}{seconds}"),
        event_type=event_type,
        tenant_id="acme",
        lead_id=LEAD,
        occurred_at=T0 + timedelta(seconds=seconds),
        payload={"qualified": qualified},
    )


JOURNEYS: list[tuple[list[StageEvent], Stage]] = [
    ([event("lead.received", 0)], Stage.received),
    (
        [event("lead.received", 0), event("lead.created", 1), event("lead.scored", 2, False)],
        Stage.not_qualified,
    ),
    (
        [
            event("lead.received", 0),
            event("lead.created", 1),
            event("lead.scored", 2),
            event("lead.qualified", 3),
        ],
        Stage.qualified,
    ),
    (
        [
            event("lead.received", 0),
            event("lead.qualified", 3),
            event("lead.assigned", 4),
            event("lead.sla_breached", 5),
            event("lead.reassigned", 5),
            event("lead.sla_breached", 9),
        ],
        Stage.sla_breached,
    ),
    ([event("lead.routing_failed", 4), event("lead.assigned", 60)], Stage.assigned),
]


@pytest.mark.parametrize(("events", "stage"), JOURNEYS)
def test_late_events_of_earlier_stages_never_regress(
    events: list[StageEvent], stage: Stage
) -> None:
    assert fold(reversed(events))[LEAD].stage == stage
    status = fold(events)[LEAD]
    assert status.stage == stage
    assert status.event_count == len(events)
    assert status.last_event_at == max(e.occurred_at for e in events)


@given(st.sampled_from(JOURNEYS).flatmap(lambda j: st.permutations(j[0])))
def test_any_arrival_order_gives_the_same_status(events: list[StageEvent]) -> None:
    in_order = fold(sorted(events, key=lambda e: (e.occurred_at, str(e.event_id))))
    assert fold(events) == in_order


@given(st.sampled_from(JOURNEYS), st.integers(min_value=0, max_value=6))
def test_merging_partial_folds_equals_one_fold(journey: Any, cut: int) -> None:
    events = journey[0]
    left, right = fold(events[:cut]), fold(events[cut:])
    if not left or not right:
        return
    assert merge(left[LEAD], right[LEAD]) == fold(events)[LEAD]


def test_statuses_of_two_leads_do_not_merge() -> None:
    status = fold([event("lead.received", 0)])[LEAD]
    other: LeadStatus = fold([event("lead.received", 0)])[LEAD]
    with pytest.raises(ValueError, match="different leads"):
        merge(status, type(other)(**{**other.__dict__, "lead_id": uuid.UUID(int=2)}))
