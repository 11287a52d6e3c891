"""What a dead-letter record says: its ``x-dlq-*`` context and what its value contains.

A DLQ record (see ``servicekit.dlq``) is the original record — key, value bytes and
headers — plus ``x-dlq-*`` headers. Nothing about it is trusted: the value may be empty,
not UTF-8, not JSON or not an envelope, and a header may be missing or malformed (a
producer other than servicekit may write to a ``.dlq`` topic). Parsing never raises;
what cannot be read is kept as ``None`` and the raw bytes stay available, because the
DLQ is where bad data must be visible.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts import headers as h

Header = tuple[str, bytes]

#: Namespace of dead-letter ids: uuid5 of the DLQ record's own position and content
#: digest, so reading the same DLQ record twice yields the same id.
DEAD_LETTER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/ns/dlq/record")


def dead_letter_id(dlq_topic: str, partition: int, offset: int, digest: str) -> uuid.UUID:
    return uuid.uuid5(DEAD_LETTER_NAMESPACE, f"{dlq_topic}:{partition}:{offset}:{digest}")


def record_digest(key: bytes | None, value: bytes | None, headers: Sequence[dict[str, str]]) -> str:
    """SHA-256 (hex) of a record's key, value and headers (in their stored JSON form).

    A position alone does not identify a record: offsets start again at 0 when a topic
    is recreated (always, with the in-memory development broker, on every restart),
    while the database keeps what it stored. Position *and* content do: a redelivered
    record is byte-identical, while a new failure at a reused offset differs at least in
    its ``x-dlq-first-failed-at`` header. Computed from the stored JSON form of the
    headers, so the stored rows can always be re-digested. Frozen: changing it changes
    the identity of every stored record (migration 0003 digests the rows it found).
    """
    sha = hashlib.sha256()
    for part in (key, value):
        sha.update(b"\xff" if part is None else len(part).to_bytes(8, "big") + part)
    sha.update(json.dumps(list(headers), sort_keys=True, separators=(",", ":")).encode())
    return sha.hexdigest()


def original_digest(
    key: bytes | None, value: bytes | None, headers: Sequence[dict[str, str]]
) -> str:
    """The digest of the *original* record inside a DLQ record: its key, value and replay
    marks. Not its other headers: the publisher rewrites tracing and correlation headers
    each time it dead-letters, so the same record dead-lettered twice differs there."""
    marks = [item for item in headers if item["key"] in (h.REPLAY_OF, h.REPLAY_COUNT)]
    return record_digest(key, value, marks)


@dataclass(frozen=True)
class Context:
    """The ``x-dlq-*`` headers, typed; ``None`` where missing or unreadable."""

    original_topic: str | None
    original_partition: int | None
    original_offset: int | None
    consumer_group: str | None
    exception_class: str | None
    exception_message: str | None
    stacktrace: str | None
    attempts: int | None
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    replay_of: uuid.UUID | None
    replay_count: int


@dataclass(frozen=True)
class EnvelopeFacts:
    """The few envelope fields the DLQ needs, read leniently.

    A record is often dead-lettered *because* its payload is invalid, so the full
    ``Envelope`` model would reject it; tenant and event id are still worth knowing
    (tenant scoping of the API, correlation with the audit log).
    """

    event_id: uuid.UUID | None
    tenant_id: str | None
    event_type: str | None
    lead_id: uuid.UUID | None
    problem: str | None  # why the value is not an envelope, or None when it looks like one


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _datetime(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def header_map(headers: Sequence[Header]) -> dict[str, str]:
    """Last value wins for repeated keys; values that are not UTF-8 are left out."""
    result: dict[str, str] = {}
    for key, value in headers:
        text = _text(value)
        if text is not None:
            result[key] = text
    return result


def read_context(headers: Sequence[Header]) -> Context:
    m = header_map(headers)
    return Context(
        original_topic=m.get(h.DLQ_ORIGINAL_TOPIC) or None,
        original_partition=_int(m.get(h.DLQ_ORIGINAL_PARTITION)),
        original_offset=_int(m.get(h.DLQ_ORIGINAL_OFFSET)),
        consumer_group=m.get(h.DLQ_CONSUMER_GROUP) or None,
        exception_class=m.get(h.DLQ_EXCEPTION_CLASS) or None,
        exception_message=m.get(h.DLQ_EXCEPTION_MESSAGE),
        stacktrace=m.get(h.DLQ_STACKTRACE),
        attempts=_int(m.get(h.DLQ_ATTEMPTS)),
        first_failed_at=_datetime(m.get(h.DLQ_FIRST_FAILED_AT)),
        last_failed_at=_datetime(m.get(h.DLQ_LAST_FAILED_AT)),
        replay_of=_uuid(m.get(h.REPLAY_OF)),
        replay_count=_int(m.get(h.REPLAY_COUNT)) or 0,
    )


def read_envelope(value: bytes | None) -> EnvelopeFacts:
    def bad(problem: str) -> EnvelopeFacts:
        return EnvelopeFacts(None, None, None, None, problem)

    if not value:
        return bad("the record has no value")
    text = _text(value)
    if text is None:
        return bad("the value is not UTF-8 text")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return bad(f"the value is not JSON: {exc}")
    if not isinstance(data, dict):
        return bad("the value is JSON but not an object")
    tenant = data.get("tenant_id")
    tenant = tenant if isinstance(tenant, str) and tenant else None
    event_type = data.get("event_type")
    facts = EnvelopeFacts(
        event_id=_uuid(data.get("event_id")),
        tenant_id=tenant,
        event_type=event_type if isinstance(event_type, str) else None,
        lead_id=_uuid(data.get("lead_id")),
        problem=None,
    )
    if facts.event_id is None or facts.tenant_id is None:
        return EnvelopeFacts(
            facts.event_id,
            facts.tenant_id,
            facts.event_type,
            facts.lead_id,
            "the value is JSON but lacks a valid event_id or tenant_id",
        )
    return facts


def logical_topic(physical: str | None, prefix: str) -> str | None:
    """The registry name of a (possibly prefixed) topic."""
    if physical and prefix and physical.startswith(prefix):
        return physical[len(prefix) :]
    return physical
