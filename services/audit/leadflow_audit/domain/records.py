"""An incoming event as the event store keeps it, and the trace id of its record."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_audit.domain.chain import ChainRow
from leadflow_audit.domain.stages import StageEvent

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def trace_id_from_traceparent(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header (None if absent, invalid or all zero)."""
    if not traceparent:
        return None
    match = _TRACEPARENT.match(traceparent.strip().lower())
    if match is None or match.group(1) == "0" * 32:
        return None
    return match.group(1)


@dataclass(frozen=True)
class IncomingEvent:
    """One validated event, ready to append (its position is given by the store)."""

    event_id: uuid.UUID
    event_type: str
    tenant_id: str
    lead_id: uuid.UUID | None
    correlation_id: str
    trace_id: str | None
    occurred_at: datetime
    envelope: Mapping[str, Any]
    #: See ``ChainRow.plain_envelope``.
    plain_envelope: bool = False

    def at(self, position: int, recorded_at: datetime) -> ChainRow:
        """This event as the store's row at ``position``."""
        return ChainRow(position=position, recorded_at=recorded_at, **vars(self))


def stage_event(event: IncomingEvent | ChainRow) -> StageEvent | None:
    """What the projection needs of ``event`` (None: the event is not about a lead)."""
    if event.lead_id is None:
        return None
    payload = event.envelope.get("payload")
    return StageEvent(
        event_id=event.event_id,
        event_type=event.event_type,
        tenant_id=event.tenant_id,
        lead_id=event.lead_id,
        occurred_at=event.occurred_at,
        payload=payload if isinstance(payload, Mapping) else {},
    )


def new_in_order(events: list[IncomingEvent], known: set[uuid.UUID]) -> list[IncomingEvent]:
    """The events to append: minus those already stored and repeats within the batch,
    ordered by ``occurred_at`` (stable, so equal times keep the batch order).

    A batch mixes partitions of several topics in no meaningful order; sorting it by
    occurrence makes positions follow the journey wherever a batch allows it.
    """
    seen = set(known)
    fresh: list[IncomingEvent] = []
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            fresh.append(event)
    return sorted(fresh, key=lambda e: e.occurred_at)
