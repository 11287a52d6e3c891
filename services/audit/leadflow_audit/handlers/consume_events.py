"""Audit's consumer: every domain topic, one group, appended batch by batch.

The event store wants one advisory lock, one chain step and one commit per *batch*, so
audit runs servicekit's ``ConsumerEngine`` over every topic of the registry with one
batch function, ``EventStore.append``. Delivery and fault rules are the engine's: offsets
commit only once a batch is durably appended; a record that is not a valid envelope for
its topic goes to ``<topic>.dlq`` at once; an append that fails because PostgreSQL is
unreachable pauses the consumer until it is back (never a dead letter); redelivered
events are absorbed by the unique ``event_id`` (see ``EventStore``).

A batch is appended in ``occurred_at`` order, ties in pipeline (registry) order: the
topics arrive independently, and events one decision stamps with the same instant
(``lead.scored``, ``lead.qualified``) then take positions in the order they happened.
Audit emits nothing, so records get no spans of their own (``trace_records=False``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import REGISTRY, TopicSpec
from servicekit.engine import ConsumerEngine, Done, Item
from servicekit.errors import InvalidMessage
from servicekit.runtime import Runtime

from leadflow_audit.adapters.store import EventStore
from leadflow_audit.handlers.parse import Parsed, parse_record
from leadflow_audit.settings import Settings

GROUP_ID = "audit"
_RANK = {spec.event_type: rank for rank, spec in enumerate(REGISTRY)}


def occurrence_order(items: list[Item[Parsed]]) -> list[Item[Parsed]]:
    def rank(item: Item[Parsed]) -> tuple[Any, int]:
        event = item.value.event
        return (event.occurred_at, _RANK.get(event.event_type, len(_RANK)))

    return sorted(items, key=rank)


class AuditConsumer(ConsumerEngine[Parsed, Done]):
    def __init__(self, runtime: Runtime, store: EventStore) -> None:
        prefix = runtime.settings.topic_prefix
        specs: dict[str, TopicSpec] = {prefix + spec.name: spec for spec in REGISTRY}

        def parse(record: ConsumerRecord[Any, Any]) -> Parsed:
            spec = specs.get(record.topic)
            if spec is None:
                raise InvalidMessage(f"audit does not know topic {record.topic!r}")
            return parse_record(spec, record)

        async def append(batch: list[Parsed]) -> Mapping[uuid.UUID, Done]:
            result = await store.append([p.event for p in batch])
            return {
                p.event.event_id: Done("duplicate" if p.event.event_id in result.known else "ok")
                for p in batch
            }

        super().__init__(
            runtime,
            [spec.name for spec in REGISTRY],
            GROUP_ID,
            append,
            parse=parse,
            key=lambda parsed: parsed.event.event_id,
            order=occurrence_order,
            trace_records=False,
        )

    def subscribe(self, settings: Settings) -> None:
        """Subscribe (before ``runtime.start``) to every registry topic in group "audit"."""
        self.register(
            max_records=settings.audit_batch_max_records,
            timeout_ms=settings.audit_batch_timeout_ms,
            fetch_min_bytes=settings.audit_fetch_min_bytes,
            fetch_max_wait_ms=settings.audit_fetch_max_wait_ms,
        )
