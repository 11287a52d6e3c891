"""A DLQ record as the service stores it (pure: no Kafka, no SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts.topics import DLQ_SUFFIX, is_dlq_topic

from leadflow_dlq.domain.payloads import headers_to_json
from leadflow_dlq.domain.records import (
    Header,
    dead_letter_id,
    logical_topic,
    original_digest,
    read_context,
    read_envelope,
    record_digest,
)

UNKNOWN_EXCEPTION = "unknown"


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


@dataclass(frozen=True)
class NewDeadLetter:
    id: uuid.UUID
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    #: Content digests (see ``record_digest``): of the DLQ record as read, and of the
    #: original record (key, value, replay marks) for the original-position key.
    record_digest: str
    original_digest: str
    key: bytes | None
    value: bytes | None
    headers: list[dict[str, str]]
    topic: str | None
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
    event_id: uuid.UUID | None
    tenant_id: str | None
    event_type: str | None
    lead_id: uuid.UUID | None
    value_problem: str | None
    replay_of: uuid.UUID | None

    def row(self) -> dict[str, Any]:
        """Column values; NUL characters (PostgreSQL text cannot hold them) replaced."""
        return {name: _without_nul(getattr(self, name)) for name in self.__dataclass_fields__}

    @property
    def metric_labels(self) -> tuple[str, str]:
        """``(original topic, exception class)`` for ``dlq_records_total``."""
        return (self.topic or UNKNOWN_EXCEPTION, self.exception_class or UNKNOWN_EXCEPTION)


def capture(
    *,
    dlq_topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header],
    topic_prefix: str = "",
) -> NewDeadLetter:
    """Describe one DLQ record. ``topic`` is the registry name of the original topic
    (``original_topic`` without ``topic_prefix``); when the context header is missing
    it is inferred from the DLQ topic's name."""
    context = read_context(headers)
    facts = read_envelope(value)
    original = context.original_topic
    if original is None and is_dlq_topic(dlq_topic):
        original = dlq_topic.removesuffix(DLQ_SUFFIX)
    stored_headers = headers_to_json(headers)
    digest = record_digest(key, value, stored_headers)
    return NewDeadLetter(
        id=dead_letter_id(dlq_topic, partition, offset, digest),
        dlq_topic=dlq_topic,
        dlq_partition=partition,
        dlq_offset=offset,
        record_digest=digest,
        original_digest=original_digest(key, value, stored_headers),
        key=key,
        value=value,
        headers=stored_headers,
        topic=logical_topic(original, topic_prefix),
        original_topic=original,
        original_partition=context.original_partition,
        original_offset=context.original_offset,
        consumer_group=context.consumer_group,
        exception_class=context.exception_class,
        exception_message=context.exception_message,
        stacktrace=context.stacktrace,
        attempts=context.attempts,
        first_failed_at=context.first_failed_at,
        last_failed_at=context.last_failed_at,
        event_id=facts.event_id,
        tenant_id=facts.tenant_id,
        event_type=facts.event_type,
        lead_id=facts.lead_id,
        value_problem=facts.problem,
        replay_of=context.replay_of,
    )


@dataclass(frozen=True)
class Filter:
    """Which dead letters a list or bulk replay means; ``None`` matches anything.

    ``error`` matches a substring of the exception class or message (case-insensitive).
    """

    topic: str | None = None
    status: str | None = None
    tenant: str | None = None
    error: str | None = None
