"""Pure domain: reading DLQ context, lenient envelope facts, bytes round trips, lifecycle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from leadflow_contracts import headers as h
from leadflow_dlq.domain.capture import capture
from leadflow_dlq.domain.lifecycle import (
    Action,
    Status,
    TransitionRefused,
    normalize_reason,
    transition,
)
from leadflow_dlq.domain.payloads import (
    decode_bytes,
    encode_bytes,
    headers_from_json,
    headers_to_json,
    replay_headers,
    show_value,
)
from leadflow_dlq.domain.records import read_context, read_envelope, record_digest

EVENT_ID = uuid.UUID("6f1c1f4e-4f6c-4a3e-9a57-2a3d0c1b5e11")
FAILED_AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "tenant", "event_id", "problem"),
    [
        (None, None, None, "the record has no value"),
        (b"", None, None, "the record has no value"),
        (b"\xff\xfe", None, None, "the value is not UTF-8 text"),
        (b"hello", None, None, "the value is not JSON: "),
        (b"[1, 2]", None, None, "the value is JSON but not an object"),
        (b'{"tenant_id": "acme"}', "acme", None, "the value is JSON but lacks"),
        (b'{"tenant_id": "", "event_id": "nope"}', None, None, "the value is JSON but lacks"),
        (f'{{"tenant_id": "acme", "event_id": "{EVENT_ID}"}}'.encode(), "acme", EVENT_ID, None),
    ],
)
def test_envelope_facts_are_read_leniently(
    value: bytes | None, tenant: str | None, event_id: uuid.UUID | None, problem: str | None
) -> None:
    facts = read_envelope(value)
    assert facts.tenant_id == tenant
    assert facts.event_id == event_id
    if problem is None:
        assert facts.problem is None
    else:
        assert facts.problem is not None
        assert facts.problem.startswith(problem)


def test_context_is_typed_and_malformed_headers_become_none() -> None:
    context = read_context(
        [
            (h.DLQ_ORIGINAL_TOPIC, b"p.lead.scored"),
            (h.DLQ_ORIGINAL_PARTITION, b"3"),
            (h.DLQ_ORIGINAL_OFFSET, b"not-a-number"),
            (h.DLQ_ATTEMPTS, b"5"),
            (h.DLQ_FIRST_FAILED_AT, FAILED_AT.isoformat().encode()),
            (h.DLQ_LAST_FAILED_AT, b"yesterday"),
            (h.DLQ_EXCEPTION_CLASS, b"\xff"),
            (h.REPLAY_OF, str(EVENT_ID).encode()),
            (h.REPLAY_COUNT, b"2"),
        ]
    )
    assert context.original_topic == "p.lead.scored"
    assert context.original_partition == 3
    assert context.original_offset is None
    assert context.attempts == 5
    assert context.first_failed_at == FAILED_AT
    assert context.last_failed_at is None
    assert context.exception_class is None
    assert context.replay_of == EVENT_ID
    assert context.replay_count == 2


def test_capture_infers_the_original_topic_and_strips_the_prefix() -> None:
    record = capture(
        dlq_topic="p.lead.scored.dlq",
        partition=0,
        offset=7,
        key=None,
        value=b"x",
        headers=[],
        topic_prefix="p.",
    )
    assert (record.original_topic, record.topic) == ("p.lead.scored", "lead.scored")
    assert record.metric_labels == ("lead.scored", "unknown")


def _at_position(value: bytes, headers: list[tuple[str, bytes]]) -> Any:
    return capture(
        dlq_topic="p.lead.scored.dlq",
        partition=0,
        offset=7,
        key=b"k",
        value=value,
        headers=headers,
        topic_prefix="p.",
    )


def test_identity_is_position_and_content() -> None:
    failed = [(h.DLQ_FIRST_FAILED_AT, b"2026-11-28T10:00:00+00:00"), ("traceparent", b"00-a")]
    first = _at_position(b"y", failed)
    assert _at_position(b"y", list(failed)).id == first.id, "a redelivered record is itself"
    # The broker was recreated and the offset reused: another failure, another record.
    later = [(h.DLQ_FIRST_FAILED_AT, b"2026-11-28T11:00:00+00:00"), ("traceparent", b"00-b")]
    assert _at_position(b"y", later).id != first.id
    assert _at_position(b"z", failed).id != first.id
    # The original record is the same one though: neither the x-dlq-* context nor the
    # tracing headers the publisher rewrites are part of it; the replay marks are.
    assert _at_position(b"y", later).original_digest == first.original_digest
    replayed = _at_position(b"y", [*failed, (h.REPLAY_OF, str(EVENT_ID).encode())])
    assert replayed.original_digest != first.original_digest


def test_record_digest_is_frozen() -> None:
    """Stored rows are keyed by it: a change would make every stored record look new."""
    headers = [{"key": "a", "value": "b", "encoding": "utf-8"}]
    assert record_digest(None, b"", []) == (
        "8f9c6384553c10c0d2fe7cb9d73f610ef2dc5d51fae02c29fa7af0591d6fa3d9"
    )
    assert record_digest(b"k", b"v", headers) == (
        "b567c55bd095c14391ae74e2cf314e5d34b289ab15a1370232f58916aebe6bdc"
    )
    assert record_digest(b"k", b"v", headers) != record_digest(b"k", b"v", [])
    assert record_digest(b"kv", b"", []) != record_digest(b"k", b"v", [])
    assert record_digest(None, b"v", []) != record_digest(b"", b"v", [])


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (Status.pending, Action.replayed, Status.replayed),
        (Status.replayed, Action.replayed, Status.replayed),
        (Status.pending, Action.discarded, Status.discarded),
        (Status.replayed, Action.discarded, Status.discarded),
        (Status.discarded, Action.replayed, None),
        (Status.discarded, Action.discarded, None),
        (Status.pending, Action.received, None),
    ],
)
def test_lifecycle(status: Status, action: Action, after: Status | None) -> None:
    if after is None:
        with pytest.raises(TransitionRefused):
            transition(status, action)
    else:
        assert transition(status, action) is after


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_blank_reason_is_refused(reason: str) -> None:
    with pytest.raises(ValueError, match="reason is required"):
        normalize_reason(reason)


def test_a_reason_is_trimmed() -> None:
    assert normalize_reason("  bad   data \n") == "bad data"


@given(st.binary())
def test_bytes_round_trip(data: bytes) -> None:
    assert decode_bytes(*encode_bytes(data)) == data


headers_strategy = st.lists(st.tuples(st.text(min_size=1, max_size=20), st.binary(max_size=40)))


@given(headers_strategy)
def test_headers_round_trip_through_json(headers: list[tuple[str, bytes]]) -> None:
    assert headers_from_json(headers_to_json(headers)) == headers


@given(headers_strategy, st.integers(min_value=1, max_value=1000))
def test_replay_headers_are_the_originals_plus_the_replay_marks(
    headers: list[tuple[str, bytes]], count: int
) -> None:
    context = [(h.DLQ_ORIGINAL_TOPIC, b"t"), (h.REPLAY_OF, b"old"), (h.REPLAY_COUNT, b"9")]
    replayed = replay_headers([*headers, *context], replay_of="abc", count=count)
    originals = [
        (k, v) for k, v in headers if k not in {*h.DLQ_HEADERS, h.REPLAY_OF, h.REPLAY_COUNT}
    ]
    assert replayed == [*originals, (h.REPLAY_OF, b"abc"), (h.REPLAY_COUNT, str(count).encode())]


def test_values_are_shown_as_json_text_or_base64() -> None:
    assert show_value(b'{"a": 1}')["json"] == {"a": 1}
    assert show_value(b"plain") == {"encoding": "utf-8", "data": "plain", "json": None, "size": 5}
    assert show_value(b"\x00\xff")["encoding"] == "base64"
    assert show_value(None)["encoding"] is None
