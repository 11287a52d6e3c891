"""Building envelopes and the records that carry them.

Derived events get ``event_id = uuid5(causation_event_id, event_type[#discriminator])``,
so handling a redelivered message yields the same ids and downstream dedupes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from leadflow_contracts import Envelope, Producer, TopicSpec, derived_event_id, utcnow
from leadflow_contracts import headers as h
from leadflow_contracts.envelope import envelope_of
from pydantic import BaseModel


def new_envelope(
    spec: TopicSpec,
    payload: BaseModel,
    *,
    producer: Producer,
    cause: Envelope[Any] | None = None,
    event_id: uuid.UUID | None = None,
    tenant_id: str | None = None,
    lead_id: uuid.UUID | None = None,
    correlation_id: str | None = None,
    discriminator: str | int | None = None,
    occurred_at: datetime | None = None,
) -> Envelope[Any]:
    """An envelope for ``spec``; ids, tenant, lead and correlation default to the cause's."""
    if not isinstance(payload, spec.payload):
        raise TypeError(f"{spec.name} carries {spec.payload.__name__}, not {type(payload)}")
    if event_id is None:
        if cause is None:
            raise ValueError("an event without a cause needs an explicit event_id")
        event_id = derived_event_id(cause.event_id, spec.event_type, discriminator)
    tenant = tenant_id or (cause.tenant_id if cause else None)
    correlation = correlation_id or (cause.correlation_id if cause else None)
    if tenant is None or correlation is None:
        raise ValueError("tenant_id and correlation_id are required without a cause")
    return envelope_of(spec.payload)(
        event_id=event_id,
        event_type=spec.event_type,
        schema_version=spec.schema_version,
        occurred_at=occurred_at or utcnow(),
        tenant_id=tenant,
        lead_id=lead_id if lead_id is not None else (cause.lead_id if cause else None),
        correlation_id=correlation,
        causation_id=cause.event_id if cause else None,
        producer=producer,
        payload=payload,
    )


@dataclass(frozen=True)
class Outgoing:
    """A record to publish: topic, key, JSON value and contract headers.

    Stored in the inbox so a redelivered input re-emits byte-identical events: the value
    is serialized with sorted keys, so its bytes do not depend on key order (PostgreSQL's
    JSONB, where the inbox keeps it, orders keys its own way).
    """

    topic: str
    key: str
    value: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: TopicSpec, envelope: Envelope[Any]) -> Outgoing:
        return cls(
            topic=spec.name,
            key=envelope.partition_key().decode(),
            value=envelope.model_dump(mode="json"),
            headers={h.EVENT_TYPE: spec.event_type, h.SCHEMA_VERSION: str(spec.schema_version)},
        )

    def header_bytes(self) -> list[tuple[str, bytes]]:
        return [(k, v.encode()) for k, v in self.headers.items()]

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "key": self.key, "value": self.value, "headers": self.headers}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outgoing:
        return cls(data["topic"], data["key"], data["value"], dict(data.get("headers", {})))

    def value_bytes(self) -> bytes:
        return orjson.dumps(self.value, option=orjson.OPT_SORT_KEYS)
