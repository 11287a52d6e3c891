"""From a Kafka record to an ``IncomingEvent`` — or ``InvalidMessage`` (dead-letter it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import TopicSpec
from leadflow_contracts import headers as h
from servicekit.consumer import parse_envelope
from servicekit.errors import InvalidMessage

from leadflow_audit.domain.chain import normalize_json
from leadflow_audit.domain.records import IncomingEvent, trace_id_from_traceparent


@dataclass(frozen=True)
class Parsed:
    record: ConsumerRecord[Any, Any]
    event: IncomingEvent


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_record(spec: TopicSpec, record: ConsumerRecord[Any, Any]) -> Parsed:
    """Validate the envelope against the topic's model, keep the document as sent.

    The stored envelope is the producer's JSON itself (unknown fields of newer
    producers included), not our re-serialization of the model.
    """
    envelope = parse_envelope(spec, record.value)  # refuses lone surrogates already
    try:
        document = json.loads(record.value, parse_constant=_reject_constant)
        normalize_json(document)  # refuses what jsonb cannot store, before it is retried
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
        envelope=document,
    )
    return Parsed(record, event)
