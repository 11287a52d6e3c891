"""The canonical form, the row hash and the chain walk (pure, fast)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from leadflow_audit.domain.chain import (
    GENESIS_HASH,
    ChainRow,
    ChainVerifier,
    StoredRow,
    canonical_json,
    chain,
    normalize_json,
    row_hash,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def row(position: int = 1, **changes: Any) -> ChainRow:
    base = ChainRow(
        position=position,
        event_id=uuid.UUID(int=position),
        event_type="lead.scored",
        tenant_id="acme",
        lead_id=uuid.UUID(int=99),
        correlation_id="wh-1",
        trace_id="ab" * 16,
        occurred_at=T0,
        recorded_at=T0 + timedelta(seconds=1),
        envelope={"payload": {"score": 70, "b": [1.0, 0.5]}, "a": "ü"},
    )
    return dataclasses.replace(base, **changes)


def test_canonical_json_is_exactly_specified() -> None:
    assert (
        canonical_json(row())
        == (
            '{"correlation_id":"wh-1","envelope":{"a":"ü","payload":{"b":[1,0.5],"score":70}},'
            '"event_id":"00000000-0000-0000-0000-000000000001","event_type":"lead.scored",'
            '"lead_id":"00000000-0000-0000-0000-000000000063","occurred_at":"2026-01-02T03:04:05.678901Z",'
            '"position":1,"recorded_at":"2026-01-02T03:04:06.678901Z","tenant_id":"acme",'
            '"trace_id":"abababababababababababababababab"}'
        ).encode()
    )


def test_timestamps_are_hashed_in_utc_whatever_their_zone() -> None:
    elsewhere = T0.astimezone(timezone(timedelta(hours=5)))
    assert row_hash(GENESIS_HASH, row(occurred_at=elsewhere)) == row_hash(GENESIS_HASH, row())


@pytest.mark.parametrize(
    "changes",
    [
        {"position": 2},
        {"event_id": uuid.UUID(int=7)},
        {"event_type": "lead.qualified"},
        {"tenant_id": "other"},
        {"lead_id": None},
        {"correlation_id": "wh-2"},
        {"trace_id": None},
        {"occurred_at": T0 + timedelta(microseconds=1)},
        {"recorded_at": T0},
        {"envelope": {"payload": {"score": 71, "b": [1.0, 0.5]}, "a": "ü"}},
    ],
)
def test_every_hashed_field_changes_the_hash(changes: dict[str, Any]) -> None:
    assert row_hash(GENESIS_HASH, row(**changes)) != row_hash(GENESIS_HASH, row())


def test_the_hash_depends_on_the_previous_hash() -> None:
    assert row_hash("1" * 64, row()) != row_hash(GENESIS_HASH, row())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "nul\x00char"])
def test_values_jsonb_cannot_store_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"NaN|NUL"):
        normalize_json({"x": [bad]})


def _stored(n: int) -> list[StoredRow]:
    return chain(GENESIS_HASH, [row(p) for p in range(1, n + 1)])


def _walk(rows: list[StoredRow]) -> tuple[bool, int, int | None]:
    verifier = ChainVerifier()
    verifier.feed(rows[:2])
    verifier.feed(rows[2:])  # page by page gives the same verdict
    verdict = verifier.verdict()
    return verdict.ok, verdict.count, verdict.first_broken_position


def _edit(rows: list[StoredRow], i: int) -> list[StoredRow]:
    edited = dataclasses.replace(rows[i].row, tenant_id="mallory")
    return [*rows[:i], dataclasses.replace(rows[i], row=edited), *rows[i + 1 :]]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda rs: rs, (True, 5, None)),
        (lambda rs: _edit(rs, 2), (False, 2, 3)),
        (lambda rs: _edit(rs, 0), (False, 0, 1)),
        (lambda rs: rs[:2] + rs[3:], (False, 2, 4)),  # row 3 deleted
        (lambda rs: [rs[0], rs[2], rs[1], rs[3], rs[4]], (False, 1, 3)),  # reordered
        (lambda rs: rs[1:], (False, 0, 2)),  # first row deleted
        (lambda rs: rs[:4], (True, 4, None)),  # the newest row: invisible without an anchor
    ],
)
def test_the_walk_names_the_first_broken_position(tamper: Any, expected: Any) -> None:
    assert _walk(tamper(_stored(5))) == expected


def _as_jsonb_returns(value: float) -> Any:
    """What PostgreSQL gives back for a float written as ``json.dumps`` writes it."""
    return json.loads(format(Decimal(json.dumps(value)), "f"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_hash_the_same_after_a_jsonb_round_trip(value: float) -> None:
    sent = row(envelope={"payload": {"x": value}})
    stored = row(envelope={"payload": {"x": _as_jsonb_returns(value)}})
    assert canonical_json(sent) == canonical_json(stored)


def _json(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))
    return st.recursive(
        st.none() | st.booleans() | st.integers() | text | scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=12,
    )


json_values = _json(st.nothing())


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_key_order_does_not_matter(envelope: dict[str, Any]) -> None:
    reversed_order = dict(reversed(list(envelope.items())))
    assert canonical_json(row(envelope=envelope)) == canonical_json(row(envelope=reversed_order))


def _reference_canonical(r: ChainRow) -> bytes:
    """The canonical form as the module docstring specifies it, with the standard library."""
    document = {
        "correlation_id": r.correlation_id,
        "envelope": normalize_json(r.envelope),
        "event_id": str(r.event_id),
        "event_type": r.event_type,
        "lead_id": str(r.lead_id) if r.lead_id is not None else None,
        "occurred_at": r.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "position": r.position,
        "recorded_at": r.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "tenant_id": r.tenant_id,
        "trace_id": r.trace_id,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


any_json = _json(
    st.integers(min_value=2**63, max_value=2**80) | st.floats(allow_nan=False, allow_infinity=False)
)


@given(st.dictionaries(st.text(max_size=5), any_json, max_size=5))
def test_canonical_json_equals_the_specified_form(envelope: dict[str, Any]) -> None:
    assert canonical_json(row(envelope=envelope)) == _reference_canonical(row(envelope=envelope))


@given(st.dictionaries(st.text(max_size=5), any_json, max_size=5))
def test_a_plain_envelope_hashes_as_its_unnormalized_form(envelope: dict[str, Any]) -> None:
    floats: list[float] = []
    normalized = normalize_json(envelope, floats)
    as_parsed = row(envelope=normalized, plain_envelope=not floats)
    assert canonical_json(as_parsed) == canonical_json(row(envelope=envelope))
