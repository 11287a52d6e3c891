"""What every consumer shares: the retry policy and the envelope parse.

The delivery rules themselves live in one place, ``servicekit.engine``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import Envelope, TopicSpec
from leadflow_contracts.versions import UnknownSchemaVersion, read_envelope, read_envelope_document
from pydantic import ValidationError

from servicekit.errors import InvalidMessage


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Backoff before attempt ``attempt + 1`` (attempt counts from 1)."""
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


def parse_envelope(spec: TopicSpec, value: bytes | None) -> Envelope[Any]:
    if value is None:
        raise InvalidMessage("record has no value (tombstone)")
    return _checked(spec, lambda: read_envelope(spec, value))


def parse_lead_envelope(spec: TopicSpec) -> Callable[[ConsumerRecord[Any, Any]], Envelope[Any]]:
    """The parser of a topic whose payload carries the lead (``payload.lead``): its
    envelope, which must agree with the lead on ``lead_id`` and ``tenant_id``."""

    def parse(record: ConsumerRecord[Any, Any]) -> Envelope[Any]:
        envelope = parse_envelope(spec, record.value)
        lead = envelope.payload.lead
        if envelope.lead_id != lead.lead_id or envelope.tenant_id != lead.tenant_id:
            raise InvalidMessage("the envelope's lead_id/tenant_id differ from the lead's")
        return envelope

    return parse


def parse_envelope_document(spec: TopicSpec, document: Any) -> Envelope[Any]:
    """``parse_envelope`` of a record value the consumer has parsed from JSON already."""
    return _checked(spec, lambda: read_envelope_document(spec, document))


def _checked(spec: TopicSpec, read: Callable[[], Envelope[Any]]) -> Envelope[Any]:
    try:
        envelope = read()
    except ValidationError as exc:
        raise InvalidMessage(f"not a valid {spec.event_type} envelope: {exc}") from exc
    except UnknownSchemaVersion as exc:
        raise InvalidMessage(str(exc)) from exc
    if envelope.event_type != spec.event_type:
        raise InvalidMessage(
            f"event_type {envelope.event_type!r} does not belong on {spec.name} "
            f"(expected {spec.event_type!r})"
        )
    return envelope
