"""A real servicekit consumer gives up on a record, the dlq service stores it, an operator
replays it after the cause is fixed, and the consumer (deduping on event_id) applies it
exactly once even when it is replayed twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from leadflow_contracts import Envelope, LeadReceived, Producer, lead_id_for, received_event_id
from leadflow_contracts.topics import LEAD_RECEIVED
from servicekit.batch import BatchConsumer
from servicekit.events import Outgoing, new_envelope
from servicekit.runtime import Runtime
from servicekit.testing.helpers import eventually
from sqlalchemy.ext.asyncio import AsyncSession


def _lead(tenant: str, webhook_id: str) -> Envelope[Any]:
    lead_id = lead_id_for(tenant, "generic", webhook_id)
    return new_envelope(
        LEAD_RECEIVED,
        LeadReceived.model_validate(
            {
                "source": "generic",
                "webhook_id": webhook_id,
                "received_at": "2026-11-28T10:00:00Z",
                "body": {},
            }
        ),
        producer=Producer(service="test", version="0"),
        event_id=received_event_id(lead_id),
        tenant_id=tenant,
        lead_id=lead_id,
        correlation_id=webhook_id,
    )


async def test_dead_lettered_record_is_applied_once_after_replays(dlq: Any, unique: str) -> None:
    tenant, group = f"acme-{unique}", f"worker-{unique}"
    broken, healthy = _lead(tenant, f"wh-1-{unique}"), _lead(tenant, f"wh-2-{unique}")
    rule_set_loads = False
    applied: list[uuid.UUID] = []  # state changes (once per event, thanks to the inbox)
    deliveries: list[uuid.UUID] = []  # every time the consumer was handed the event
    consumer = Runtime.build(dlq.settings.model_copy(update={"retry_max_attempts": 2}))

    @dataclass(frozen=True)
    class Done:
        outcome: str
        outputs: tuple[Outgoing, ...] = ()

    async def decide(session: AsyncSession, fresh: list[Envelope[Any]]) -> dict[Any, Done]:
        for envelope in fresh:  # only what the inbox has not seen
            if envelope.event_id == broken.event_id and not rule_set_loads:
                raise RuntimeError("rule set failed to load")
        applied.extend(e.event_id for e in fresh)
        return {e.event_id: Done("ok") for e in fresh}

    def observe(item: Any, done: Done) -> None:
        deliveries.append(item.value.event_id)

    engine = BatchConsumer(consumer, LEAD_RECEIVED, group, decide, observe=observe)
    engine.register(max_records=10, timeout_ms=50)
    await consumer.start()
    try:
        for envelope in (broken, healthy):
            await dlq.runtime.publisher.publish(Outgoing.of(LEAD_RECEIVED, envelope))

        async def stored() -> list[dict[str, Any]]:
            return await dlq.list(dlq.token([tenant]), topic=LEAD_RECEIVED.name)

        [record] = await eventually(stored, what="the dead letter")
        assert await eventually(lambda: probe(healthy.event_id in applied), what="next record")
        assert record["event_id"] == str(broken.event_id)
        assert record["consumer_group"] == group
        assert record["exception_class"] == "builtins.RuntimeError"
        assert record["exception_message"] == "rule set failed to load"
        assert record["attempts"] >= 2  # its own retries (after the batch's, if in one)
        assert record["status"] == "pending"

        rule_set_loads = True
        token = dlq.token([tenant])
        replay = await dlq.http.post(f"/v1/dead-letters/{record['id']}:replay", headers=token)
        assert replay.status_code == 200, replay.text
        await eventually(lambda: probe(broken.event_id in applied), what="the replay applied")
        # A second replay reaches the consumer too, and is a no-op: the inbox has seen it
        # (the engine counts it as a duplicate, and nothing is decided again).
        metrics = consumer.metrics
        duplicates = metrics.leads_processed.labels(metrics.service, "duplicate")
        before = duplicates._value.get()
        replay = await dlq.http.post(f"/v1/dead-letters/{record['id']}:replay", headers=token)
        assert replay.status_code == 200, replay.text
        await eventually(lambda: probe(duplicates._value.get() > before), what="the second replay")
        assert applied == [healthy.event_id, broken.event_id]
        assert deliveries.count(broken.event_id) == 1
        assert len(await stored()) == 1, "nothing new was dead-lettered"
    finally:
        await consumer.stop()


async def probe(value: bool) -> bool:
    return value
