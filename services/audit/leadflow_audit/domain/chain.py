"""The hash chain: one canonical form of a stored row, its hash, and the chain walk.

Canonical JSON of a row (the exact bytes that are hashed)::

    {"correlation_id":…,"envelope":…,"event_id":…,"event_type":…,"lead_id":…,
     "occurred_at":…,"position":…,"recorded_at":…,"tenant_id":…,"trace_id":…}

* every key of every object sorted, separators ``,`` and ``:`` (no whitespace), UTF-8,
  non-ASCII characters written as themselves (``ensure_ascii=False``);
* ``event_id`` and ``lead_id`` as lower-case hyphenated UUID strings, ``lead_id`` and
  ``trace_id`` may be ``null``; ``position`` an integer;
* timestamps in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (PostgreSQL keeps microseconds);
* JSON numbers inside ``envelope`` as PostgreSQL's ``jsonb`` gives them back: a float
  with an integral value is written as the exact integer of its shortest decimal form
  (``1.0`` → ``1``, ``1e20`` → ``100000000000000000000``), other floats in Python's
  shortest round-trip form. NaN and infinities are not JSON and are refused.

``row_hash = SHA-256(prev_hash ‖ canonical JSON)`` as lower-case hex, where ``prev_hash``
is the previous row's ``row_hash`` as ASCII hex (64 zeros for the first row). Editing a
row changes its hash; deleting, inserting or reordering rows breaks the next row's link.
Deleting the newest rows cannot be seen from the chain alone (the well-known limit of
any hash chain without an external anchor).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainRow:
    """The hashed fields of one row of the event store."""

    position: int
    event_id: uuid.UUID
    event_type: str
    tenant_id: str
    lead_id: uuid.UUID | None
    correlation_id: str
    trace_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    envelope: Mapping[str, Any]
    #: Not hashed: the envelope is ``normalize_json``'s output already and holds no
    #: non-integral float, so it is serialized as it is (no second walk).
    plain_envelope: bool = field(default=False, compare=False)


#: The fields of ``ChainRow`` that the row hash covers (all but ``plain_envelope``).
HASHED_FIELDS = tuple(f.name for f in fields(ChainRow) if f.compare)


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps in the event store must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_json(value: Any, floats: list[float] | None = None) -> Any:
    """``value`` with numbers in the form ``jsonb`` returns them (see module docstring);
    the non-integral floats met are appended to ``floats`` when given."""
    kind = type(value)  # exact types first: this walks every event's envelope on append
    if kind is str:
        if "\x00" in value:
            raise ValueError("JSON strings with NUL characters cannot be stored")
        return value
    if kind is dict:
        return {str(k): normalize_json(v, floats) for k, v in value.items()}
    if kind is int or kind is bool or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinite numbers are not JSON")
        if value.is_integer():
            return int(Decimal(repr(value)))
        if floats is not None:
            floats.append(value)
        return value
    if isinstance(value, Mapping):
        return {str(k): normalize_json(v, floats) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize_json(v, floats) for v in value]
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("JSON strings with NUL characters cannot be stored")
    return value


def canonical_json(row: ChainRow) -> bytes:
    floats: list[float] = []
    envelope = row.envelope if row.plain_envelope else normalize_json(row.envelope, floats)
    document = {
        "correlation_id": row.correlation_id,
        "envelope": envelope,
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "lead_id": str(row.lead_id) if row.lead_id is not None else None,
        "occurred_at": _timestamp(row.occurred_at),
        "position": row.position,
        "recorded_at": _timestamp(row.recorded_at),
        "tenant_id": row.tenant_id,
        "trace_id": row.trace_id,
    }
    if not floats:
        # orjson writes what json.dumps below writes for every value but a float (its
        # exponent form differs: 1e-07 / 1e-7) and refuses integers beyond 64 bits.
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")  # strict: a lone surrogate raises, it cannot be stored


def row_hash(prev_hash: str, row: ChainRow) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(row)).hexdigest()


@dataclass(frozen=True)
class StoredRow:
    row: ChainRow
    prev_hash: str
    row_hash: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    first_broken_position: int | None = None
    reason: str | None = None


class ChainVerifier:
    """Walks stored rows in position order, page after page, and finds the first break."""

    def __init__(self) -> None:
        self.expected_prev = GENESIS_HASH
        self.count = 0
        self.broken: Verdict | None = None

    def feed(self, rows: Iterable[StoredRow]) -> bool:
        """Check more rows; returns False once a break was found (stop reading)."""
        if self.broken is not None:
            return False
        for stored in rows:
            position = stored.row.position
            if stored.prev_hash != self.expected_prev:
                reason = "prev_hash does not match the previous row (row deleted or inserted)"
                self.broken = Verdict(False, self.count, position, reason)
                return False
            if row_hash(stored.prev_hash, stored.row) != stored.row_hash:
                reason = "row_hash does not match the row's content (row edited)"
                self.broken = Verdict(False, self.count, position, reason)
                return False
            self.expected_prev = stored.row_hash
            self.count += 1
        return True

    def verdict(self) -> Verdict:
        return self.broken or Verdict(True, self.count)


def chain(prev_hash: str, rows: Iterable[ChainRow]) -> list[StoredRow]:
    """Link ``rows`` (already in position order) after ``prev_hash``."""
    linked: list[StoredRow] = []
    for row in rows:
        current = row_hash(prev_hash, row)
        linked.append(StoredRow(row, prev_hash, current))
        prev_hash = current
    return linked
