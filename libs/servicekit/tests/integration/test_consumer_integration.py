"""The consumer engine against the real broker and real PostgreSQL.

Bad records are dead-lettered and the consumer goes on; an infrastructure fault is
waited out however long it lasts (never a dead letter); a redelivery changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from leadflow_contracts import Envelope, LeadCreated, LeadReceived
from leadflow_contracts import headers as h
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing, new_envelope
from servicekit.runtime import Runtime
from servicekit.testing.helpers import TopicReader, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MakeReceived = Callable[[str, str], Envelope[LeadReceived]]
Subscribe = Callable[..., None]


def created_from(runtime: Runtime, envelope: Envelope[Any]) -> Outgoing:
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
    return Outgoing.of(LEAD_CREATED, created)


async def _dead_letters(runtime: Runtime) -> list[Any]:
    topic = runtime.settings.topic_prefix + LEAD_RECEIVED.dlq
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as reader:
        return await reader.drain()


async def test_redelivered_message_changes_state_exactly_once(
    runtime: Runtime, make_received: MakeReceived, unique: str, subscribe: Subscribe
) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE state_changes (event_id uuid NOT NULL)"))

    async def apply(session: AsyncSession, envelope: Envelope[Any]) -> list[Outgoing]:
        await session.execute(
            text("INSERT INTO state_changes VALUES (:id)"), {"id": envelope.event_id}
        )
        return [created_from(runtime, envelope)]

    subscribe(runtime, f"kit-{unique}", apply)
    await runtime.start()
    record = Outgoing.of(LEAD_RECEIVED, make_received(f"tenant-{unique}", f"wh-{unique}"))
    prefix = runtime.settings.topic_prefix
    async with TopicReader(
        runtime.settings.kafka_bootstrap_servers, prefix + LEAD_CREATED.name
    ) as reader:
        # The same message three times on the topic (producer retries), each redelivery
        # in a later batch (inside one batch a repeat is dropped before the inbox).
        for n in (1, 2, 3):
            await runtime.publisher.publish(record)
            await reader.wait_for(lambda rs, n=n: len(rs) >= n, what=f"emission {n}")
        ids = {v["event_id"] for v in reader.values()}
        values = {r.value for r in reader.records}
    async with runtime.engine.connect() as conn:
        changes = (await conn.execute(text("SELECT count(*) FROM state_changes"))).scalar()
    assert changes == 1
    # Every (re-)emission carries the same deterministic event id: downstream dedupes.
    assert len(ids) == 1
    # ... and is the same bytes: the first from memory, the others from the inbox (JSONB).
    assert len(values) == 1


async def test_bad_records_are_dead_lettered_and_the_consumer_goes_on(
    runtime: Runtime, make_received: MakeReceived, unique: str, subscribe: Subscribe
) -> None:
    seen: list[str] = []
    tenant = f"tenant-{unique}"

    async def apply(session: AsyncSession, envelope: Envelope[Any]) -> list[Outgoing]:
        webhook_id = envelope.payload.webhook_id
        if webhook_id.startswith("poison"):
            raise InvalidMessage("this lead can never be handled")
        if webhook_id.startswith("buggy"):
            raise ValueError("this record trips a bug every time")
        seen.append(webhook_id)
        return []

    subscribe(runtime, f"kit-{unique}", apply)
    await runtime.start()
    poison = Outgoing.of(LEAD_RECEIVED, make_received(tenant, f"poison-{unique}"))
    poison = Outgoing(
        poison.topic, poison.key, poison.value, {**poison.headers, "x-custom": "kept"}
    )
    await runtime.publisher.publish(poison)
    await runtime.publisher.publish(
        Outgoing.of(LEAD_RECEIVED, make_received(tenant, f"buggy-{unique}"))
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

    await eventually(good_handled, what="the message after the bad ones")

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
    assert headers[h.DLQ_FIRST_FAILED_AT] <= headers[h.DLQ_LAST_FAILED_AT]
    assert "Traceback" in headers[h.DLQ_STACKTRACE]
    # The dead letter stays in the record's own trace (not the batch's).
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as originals:
        sent = await originals.wait_for(lambda rs: len(rs) >= 4, what="the originals")
    original = dict(next(r for r in sent if r.key == poison.key.encode()).headers)
    assert headers["traceparent"].split("-")[1] == original["traceparent"].decode().split("-")[1]

    buggy = next(r for r in records if r.value and b"buggy-" in r.value)
    buggy_headers = {k: v.decode() for k, v in buggy.headers}
    assert int(buggy_headers[h.DLQ_ATTEMPTS]) >= 3  # retried up to the budget, then set aside
    assert buggy_headers[h.DLQ_EXCEPTION_CLASS] == "builtins.ValueError"

    garbage = by_key[b"garbage"]
    assert garbage.value == b"{not json"
    # The original headers byte for byte, in order, before the dead-letter context.
    kept = [(k, v) for k, v in garbage.headers if k != "traceparent" and k not in h.DLQ_HEADERS]
    assert kept == foreign
    garbage_headers = {k: v.decode("utf-8", "replace") for k, v in garbage.headers}
    assert "not a valid lead.received envelope" in garbage_headers[h.DLQ_EXCEPTION_MESSAGE]
    # When the buggy record shares a batch with the good one, each retry of the batch runs
    # the good record's handler again in a transaction that rolls back: attempts, not effects.
    assert set(seen) == {f"good-{unique}"}


async def test_an_outage_longer_than_the_retry_budget_is_waited_out_never_dead_lettered(
    runtime: Runtime, make_received: MakeReceived, unique: str, subscribe: Subscribe
) -> None:
    """The database "fails" for 4x the attempts a record fault gets; the consumer pauses,
    says why on readiness, and handles the record once the fault is gone."""
    budget = runtime.settings.retry_max_attempts
    failures = {"left": 4 * budget}
    faults_seen: list[dict[str, Any]] = []
    handled: list[str] = []

    async def apply(session: AsyncSession, envelope: Envelope[Any]) -> list[Outgoing]:
        if failures["left"] > 0:
            failures["left"] -= 1
            faults_seen.append(runtime.health.faults())
            raise psycopg.OperationalError("connection to server was lost")
        handled.append(envelope.payload.webhook_id)
        return [created_from(runtime, envelope)]

    subscribe(runtime, f"kit-{unique}", apply)
    await runtime.start()
    await runtime.publisher.publish(
        Outgoing.of(LEAD_RECEIVED, make_received(f"tenant-{unique}", f"wh-{unique}"))
    )

    async def recovered() -> bool:
        return handled == [f"wh-{unique}"]

    await eventually(recovered, timeout_s=60, what="the record handled after the outage")
    component = f"consumer kit-{unique}"
    # While it failed, the consumer said so (from the second failure on) ...
    assert all(component in f for f in faults_seen[1:]), faults_seen[-1]
    assert faults_seen[-1][component]["reason"] == "paused: database unavailable"
    # ... and once it worked again it took the fault back.
    assert component not in runtime.health.faults()
    assert await _dead_letters(runtime) == []
    metrics = runtime.metrics
    paused = metrics.consumer_paused.labels(metrics.service, f"kit-{unique}")._value.get()
    assert paused == 0
