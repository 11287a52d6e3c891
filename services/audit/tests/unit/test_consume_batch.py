"""The batch handler's delivery rules, with fakes at the composition root (fast).

Poison is dead-lettered at once and the rest of the batch is appended; an append the
database cannot take right now is waited out however long that lasts (never a dead
letter); a record-specific failure is retried, then each record is tried alone and only
the ones that still fail are dead-lettered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_audit.adapters.store import AppendResult
from leadflow_audit.domain.records import IncomingEvent
from leadflow_audit.handlers.consume_events import AuditConsumer
from leadflow_contracts import LeadReceived, Producer
from leadflow_contracts.topics import LEAD_RECEIVED
from opentelemetry.sdk.trace import TracerProvider
from servicekit.consumer import RetryPolicy
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing, new_envelope
from servicekit.faults import Health
from servicekit.metrics import ServiceMetrics


class FlakyStore:
    """The database is unreachable for the first ``failures`` appends; every append
    containing ``poison`` fails for that record's own reason."""

    def __init__(self, failures: int = 0, poison: uuid.UUID | None = None) -> None:
        self.failures = failures
        self.poison = poison
        self.appended: list[uuid.UUID] = []
        self.trace_ids: set[str | None] = set()
        self.calls = 0

    async def append(self, events: Sequence[IncomingEvent]) -> AppendResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("database went away")
        if any(e.event_id == self.poison for e in events):
            raise ValueError("this event trips the store")
        self.appended.extend(e.event_id for e in events)
        self.trace_ids.update(e.trace_id for e in events)
        return AppendResult(len(events), 0)


class FakeDeadLetters:
    def __init__(self) -> None:
        self.records: list[tuple[int, type[BaseException], int]] = []

    async def publish(self, record: Any, exc: BaseException, **context: Any) -> None:
        assert context["consumer_group"] == "audit"
        self.records.append((record.offset, type(exc), context["attempts"]))


def _consumer(store: FlakyStore) -> tuple[AuditConsumer, FakeDeadLetters]:
    dead = FakeDeadLetters()
    runtime = SimpleNamespace(
        settings=SimpleNamespace(topic_prefix="p."),
        metrics=ServiceMetrics("audit"),
        dead_letters=dead,
        retry_policy=lambda: RetryPolicy(3, 0.0, 0.0),
        tracer_provider=TracerProvider(),
        health=Health(),
    )
    return AuditConsumer(runtime, store), dead  # type: ignore[arg-type]


def _record(offset: int, value: bytes) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        "p.lead.received",
        0,
        offset,
        0,
        0,
        b"k",
        value,
        None,
        1,
        len(value),
        [("traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01")],
    )


def _event(n: int) -> tuple[uuid.UUID, bytes]:
    envelope = new_envelope(
        LEAD_RECEIVED,
        LeadReceived(source="generic", webhook_id=f"w{n}", received_at=datetime.now(UTC), body={}),
        producer=Producer(service="t", version="0"),
        event_id=uuid.UUID(int=n),
        tenant_id="acme",
        lead_id=uuid.UUID(int=1000 + n),
        correlation_id=f"w{n}",
    )
    return envelope.event_id, Outgoing.of(LEAD_RECEIVED, envelope).value_bytes()


async def test_poison_is_dead_lettered_and_the_rest_appended() -> None:
    store = FlakyStore()
    consumer, dead = _consumer(store)
    (id1, v1), (id2, v2) = _event(1), _event(2)
    await consumer.handle_batch((_record(0, v1), _record(1, b"{not json"), _record(2, v2)))
    assert store.appended == [id1, id2]
    assert store.trace_ids == {"a" * 32}
    assert dead.records == [(1, InvalidMessage, 1)]


async def test_an_outage_longer_than_the_retry_budget_is_waited_out() -> None:
    store = FlakyStore(failures=10)  # the retry budget is 3 attempts
    consumer, dead = _consumer(store)
    (id1, v1), (id2, v2) = _event(1), _event(2)
    await consumer.handle_batch((_record(0, v1), _record(1, v2)))
    assert store.appended == [id1, id2]
    assert dead.records == []
    assert store.calls == 11


async def test_after_retries_only_the_record_that_still_fails_is_dead_lettered() -> None:
    (id1, v1), (id2, v2), (id3, v3) = _event(1), _event(2), _event(3)
    store = FlakyStore(poison=id2)
    consumer, dead = _consumer(store)
    await consumer.handle_batch((_record(0, v1), _record(1, v2), _record(2, v3)))
    assert store.appended == [id1, id3]
    assert dead.records == [(1, ValueError, 6)]  # the batch's 3 attempts, then its own 3


async def test_envelopes_the_store_cannot_keep_are_dead_lettered_at_once() -> None:
    """NUL characters and lone surrogates (jsonb has neither), NaN and a constant that is
    not JSON: each is refused before any append is tried, the rest goes on."""
    (id1, v1), (_, v2) = _event(1), _event(2)
    assert b'"body":{}' in v2
    bodies = [rb'{"note":"a\u0000b"}', rb'{"note":"\ud800"}', rb'{"\udc00":1}', b'{"n":NaN}']
    poison = [v2.replace(b'"body":{}', b'"body":' + body) for body in bodies]
    store = FlakyStore()
    consumer, dead = _consumer(store)
    batch = [_record(0, v1), *(_record(i, v) for i, v in enumerate(poison, start=1))]
    await consumer.handle_batch(tuple(batch))
    assert store.appended == [id1]
    assert dead.records == [(i, InvalidMessage, 1) for i in range(1, len(bodies) + 1)]
    assert store.calls == 1
