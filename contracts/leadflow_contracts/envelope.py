"""The envelope that wraps every message on every topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

P = TypeVar("P", bound=BaseModel)


class Producer(BaseModel):
    """Which service (and which build of it) produced an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = Field(min_length=1, examples=["ingest"])
    version: str = Field(min_length=1, examples=["0.1.0"])


class Envelope(BaseModel, Generic[P]):
    """Every Kafka record's value is one envelope serialized as JSON.

    ``correlation_id`` stays constant for a lead's whole journey (it starts as the
    webhook-id); ``causation_id`` is the ``event_id`` of the event that caused this one.
    Unknown fields are ignored on read so that adding optional fields is compatible.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID
    event_type: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    tenant_id: str = Field(min_length=1)
    lead_id: uuid.UUID | None
    correlation_id: str = Field(min_length=1)
    causation_id: uuid.UUID | None
    producer: Producer
    payload: P

    def partition_key(self) -> bytes:
        """The Kafka record key: ``lead_id``, or ``tenant_id`` for events about no lead."""
        return str(self.lead_id if self.lead_id is not None else self.tenant_id).encode()


@cache
def envelope_of(payload: type[BaseModel]) -> type[Envelope[Any]]:
    """``Envelope[payload]``, built once: pydantic's own lookup of a parametrized model
    (a cache key from the arguments, each time) was a few per cent of a consumer's CPU
    on the hot path."""
    model: type[Envelope[Any]] = Envelope[payload]  # type: ignore[valid-type]
    return model


def utcnow() -> datetime:
    """Timezone-aware now, the only clock contracts accept."""
    return datetime.now(UTC)
