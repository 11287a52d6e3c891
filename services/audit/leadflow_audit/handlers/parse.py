"""From a Kafka record to an ``IncomingEvent`` — or ``InvalidMessage`` (dead-letter it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import TopicSpec
from leadflow_contracts import headers as h
from pydantic_core import from_json
from servicekit.consumer import parse_envelope_document
from servicekit.errors import InvalidMessage

from leadflow_audit.domain.chain import normalize_json
from leadflow_audit.domain.records import IncomingEvent, trace_id_from_traceparent


@dataclass(frozen=True)
class Parsed:
    record: ConsumerRecord[Any, Any]
    event: IncomingEvent


def parse_record(spec: TopicSpec, record: ConsumerRecord[Any, Any]) -> Parsed:
    """Validate the envelope against the topic's model, keep the document as sent.

    The stored envelope is the producer's JSON itself (unknown fields of newer
    producers included), not our re-serialization of the model. The value is parsed
    once: the envelope is validated from the same document that is normalized, hashed
    and stored.
    """
    if record.value is None:
        raise InvalidMessage("record has no value (tombstone)")
    try:
        # Exact big integers, and no NaN or lone surrogates (they cannot be stored).
        document = from_json(record.value, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidMessage(f"not a valid {spec.event_type} envelope: {exc}") from exc
    envelope = parse_envelope_document(spec, document)
    floats: list[float] = []
    try:
        normalized = normalize_json(document, floats)  # refuses what jsonb cannot store
    except ValueError as exc:
        raise InvalidMessage(f"envelope cannot be stored: {exc}") from exc
    headers = dict(record.headers or ())
    traceparent = headers.get(h.TRACEPARENT)
    event = IncomingEvent(
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        tenant_id=envelope.tenant_id,
        lead_id=envelope.lead_id,
        correlation_id=envelope.correlation_id,
        trace_id=trace_id_from_traceparent(
            traceparent.decode("ascii", "replace") if traceparent else None
        ),
        occurred_at=envelope.occurred_at,
        envelope=normalized,
        plain_envelope=not floats,
    )
    return Parsed(record, event)
