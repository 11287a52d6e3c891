"""The reliable consumer against the real broker and real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from leadflow_contracts import Envelope, LeadCreated, LeadReceived
from leadflow_contracts import headers as h
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from servicekit.consumer import Delivery
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing, new_envelope
from servicekit.runtime import Runtime
from servicekit.settings import ServiceSettings
from servicekit.testing.helpers import TopicReader, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MakeReceived = Callable[[str, str], Envelope[LeadReceived]]


async def _create_state_table(runtime: Runtime) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE state_changes (event_id uuid NOT NULL, tenant text NOT NULL)")
        )


async def _state_changes(runtime: Runtime) -> list[Any]:
    async with runtime.engine.connect() as conn:
        return list((await conn.execute(text("SELECT event_id FROM state_changes"))).all())


async def test_redelivered_message_changes_state_exactly_once(
    runtime: Runtime, make_received: MakeReceived, unique: str
) -> None:
    await _create_state_table(runtime)
    inbox = runtime.inbox("kit-test-worker")
    crash_once = {"armed": True}
    handled: list[tuple[uuid.UUID, bool]] = []

    async def handle(envelope: Envelope[Any], delivery: Delivery) -> None:
        async def apply(session: AsyncSession) -> list[Outgoing]:
            await session.execute(
                text("INSERT INTO state_changes VALUES (:id, :tenant)"),
                {"id": envelope.event_id, "tenant": envelope.tenant_id},
            )
            created = new_envelope(
                LEAD_CREATED,
                LeadCreated.model_validate(
                    {
                        "lead": {
                            "lead_id": envelope.lead_id,
                            "tenant_id": envelope.tenant_id,
                            "source": "generic",
                            "received_at": envelope.occurred_at,
                        }
                    }
                ),
                producer=runtime.producer,
                cause=envelope,
            )
            return [Outgoing.of(LEAD_CREATED, created)]

        result = await inbox.handle(envelope.event_id, LEAD_RECEIVED.name, apply)
        handled.append((envelope.event_id, result.duplicate))
        if crash_once["armed"]:
            # Simulates a crash after commit and publish but before the offset commit:
            # the consumer retries the same record.
            crash_once["armed"] = False
            raise ConnectionError("simulated crash after commit")

    runtime.consume(LEAD_RECEIVED, f"kit-{unique}", handle)
    await runtime.start()
    envelope = make_received(f"tenant-{unique}", f"wh-{unique}")
    record = Outgoing.of(LEAD_RECEIVED, envelope)
    # The same message twice on the topic (a producer retry) plus one in-process retry.
    await runtime.publisher.publish(record)
    await runtime.publisher.publish(record)

    async def three_deliveries() -> bool:
        return len(handled) >= 3

    await eventually(three_deliveries, what="three deliveries of the same event")
    assert [dup for _, dup in handled] == [False, True, True]
    assert len(await _state_changes(runtime)) == 1

    prefix = runtime.settings.topic_prefix
    async with TopicReader(
        runtime.settings.kafka_bootstrap_servers, prefix + LEAD_CREATED.name
    ) as reader:
        await reader.wait_for(lambda rs: len(rs) >= 3, what="re-emitted lead.created")
        ids = {v["event_id"] for v in reader.values()}
        values = {r.value for r in reader.records}
    # Every (re-)emission carries the same deterministic event id: downstream dedupes.
    assert len(ids) == 1
    # ... and is the same bytes: the first from memory, the others from the inbox (JSONB).
    assert len(values) == 1


async def test_poison_message_goes_to_dlq_and_consumer_continues(
    runtime: Runtime, make_received: MakeReceived, unique: str
) -> None:
    seen: list[str] = []
    tenant = f"tenant-{unique}"

    async def handle(envelope: Envelope[Any], delivery: Delivery) -> None:
        webhook_id = envelope.payload.webhook_id
        if webhook_id.startswith("poison"):
            raise InvalidMessage("this lead can never be handled")
        if webhook_id.startswith("flaky"):
            raise TimeoutError("dependency keeps timing out")
        seen.append(webhook_id)

    runtime.consume(LEAD_RECEIVED, f"kit-{unique}", handle)
    await runtime.start()
    poison = Outgoing.of(LEAD_RECEIVED, make_received(tenant, f"poison-{unique}"))
    poison = Outgoing(
        poison.topic, poison.key, poison.value, {**poison.headers, "x-custom": "kept"}
    )
    await runtime.publisher.publish(poison)
    await runtime.publisher.publish(
        Outgoing.of(LEAD_RECEIVED, make_received(tenant, f"flaky-{unique}"))
    )
    # Not even JSON, from a foreign producer: a binary header value and a repeated key.
    foreign = [("x-bin", b"\xff\x00\x01"), ("x-rep", b"1"), ("x-rep", b"2")]
    await runtime.raw_producer.send(
        runtime.settings.topic_prefix + LEAD_RECEIVED.name,
        b"{not json",
        key=b"garbage",
        headers=foreign,
    )
    await runtime.publisher.publish(
        Outgoing.of(LEAD_RECEIVED, make_received(tenant, f"good-{unique}"))
    )

    async def good_handled() -> bool:
        return f"good-{unique}" in seen

    await eventually(good_handled, what="the message after the poison ones")

    topic = runtime.settings.topic_prefix + LEAD_RECEIVED.name
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic + ".dlq") as reader:
        records = await reader.wait_for(lambda rs: len(rs) >= 3, what="three DLQ records")
    by_key = {r.key: r for r in records}
    dead = by_key[poison.key.encode()]
    assert dead.value == poison.value_bytes()
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["x-custom"] == "kept"
    assert headers[h.EVENT_TYPE] == "lead.received"
    assert headers[h.DLQ_ORIGINAL_TOPIC] == topic
    assert int(headers[h.DLQ_ORIGINAL_PARTITION]) >= 0
    assert int(headers[h.DLQ_ORIGINAL_OFFSET]) >= 0
    assert headers[h.DLQ_CONSUMER_GROUP] == f"kit-{unique}"
    assert headers[h.DLQ_EXCEPTION_CLASS] == "servicekit.errors.InvalidMessage"
    assert headers[h.DLQ_EXCEPTION_MESSAGE] == "this lead can never be handled"
    assert headers[h.DLQ_ATTEMPTS] == "1"
    assert headers[h.DLQ_FIRST_FAILED_AT] <= headers[h.DLQ_LAST_FAILED_AT]
    assert "Traceback" in headers[h.DLQ_STACKTRACE]

    flaky = next(r for r in records if r.value and b"flaky-" in r.value)
    flaky_headers = {k: v.decode() for k, v in flaky.headers}
    assert flaky_headers[h.DLQ_ATTEMPTS] == "3"  # retried up to the budget, then dead-lettered
    assert flaky_headers[h.DLQ_EXCEPTION_CLASS] == "builtins.TimeoutError"

    garbage = by_key[b"garbage"]
    assert garbage.value == b"{not json"
    # The original headers byte for byte, in order, before the dead-letter context.
    kept = [(k, v) for k, v in garbage.headers if k != "traceparent" and k not in h.DLQ_HEADERS]
    assert kept == foreign
    garbage_headers = {k: v.decode("utf-8", "replace") for k, v in garbage.headers}
    assert "not a valid lead.received envelope" in garbage_headers[h.DLQ_EXCEPTION_MESSAGE]
    assert seen == [f"good-{unique}"]


async def test_transient_failure_within_budget_produces_no_dlq_record(
    runtime: Runtime, make_received: MakeReceived, unique: str
) -> None:
    attempts: list[int] = []

    async def handle(envelope: Envelope[Any], delivery: Delivery) -> None:
        attempts.append(delivery.attempt)
        if delivery.attempt < 2:
            raise ConnectionError("database blinked")

    runtime.consume(LEAD_RECEIVED, f"kit-{unique}", handle)
    await runtime.start()
    await runtime.publisher.publish(
        Outgoing.of(LEAD_RECEIVED, make_received(f"tenant-{unique}", f"wh-{unique}"))
    )

    async def recovered() -> bool:
        return attempts == [1, 2]

    await eventually(recovered, what="success on the second attempt")
    topic = runtime.settings.topic_prefix + LEAD_RECEIVED.name + ".dlq"
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as reader:
        assert await reader.drain() == []


async def test_consumer_workers_handle_partitions_concurrently_and_completely(
    settings: ServiceSettings, make_received: MakeReceived, unique: str
) -> None:
    """``consumer_workers=2``: two group members share the partitions, run at the same
    time, and every record is handled to completion (a failing one is retried)."""
    runtime = Runtime.build(settings.model_copy(update={"consumer_workers": 2}))
    in_flight = 0
    peak = 0
    both_busy = asyncio.Event()
    handled: dict[str, int] = {}

    async def handle(envelope: Envelope[Any], delivery: Delivery) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight >= 2:
            both_busy.set()
        try:
            # The first deliveries wait (bounded) for one on another member.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_busy.wait(), 5)
            webhook_id = envelope.payload.webhook_id
            if webhook_id.endswith("-0") and delivery.attempt == 1:
                raise ConnectionError("database blinked")
            handled[webhook_id] = handled.get(webhook_id, 0) + 1
        finally:
            in_flight -= 1

    runtime.consume(LEAD_RECEIVED, f"kit-{unique}", handle)
    await runtime.start()
    try:
        ids = [f"wh-{unique}-{i}" for i in range(12)]
        for webhook_id in ids:
            envelope = make_received(f"tenant-{unique}", webhook_id)
            await runtime.publisher.publish(Outgoing.of(LEAD_RECEIVED, envelope))

        async def all_handled() -> bool:
            return set(handled) == set(ids)

        await eventually(all_handled, what="every record handled by the two members")
    finally:
        await runtime.stop()
    assert peak >= 2
    assert all(count == 1 for count in handled.values())
