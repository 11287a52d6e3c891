"""Trace ids from ``traceparent`` and the order new events get their positions in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from leadflow_audit.domain.records import IncomingEvent, new_in_order, trace_id_from_traceparent

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("header", "trace_id"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", TRACE),
        (f"00-{TRACE.upper()}-00F067AA0BA902B7-01", TRACE),
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", None),
        ("garbage", None),
        ("", None),
        (None, None),
    ],
)
def test_trace_id_from_traceparent(header: str | None, trace_id: str | None) -> None:
    assert trace_id_from_traceparent(header) == trace_id


def _event(n: int, seconds: int) -> IncomingEvent:
    return IncomingEvent(
        event_id=uuid.UUID(int=n),
        event_type="lead.received",
        tenant_id="acme",
        lead_id=None,
        correlation_id="c",
        trace_id=None,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds),
        envelope={},
    )


def test_new_events_are_deduped_and_ordered_by_occurrence_stably() -> None:
    batch = [_event(1, 5), _event(2, 1), _event(3, 5), _event(2, 1), _event(4, 0)]
    fresh = new_in_order(batch, known={uuid.UUID(int=4)})
    assert [e.event_id.int for e in fresh] == [2, 1, 3]
