"""Outbox relay and explicit topic creation against the real broker and PostgreSQL."""

from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient
from leadflow_contracts import ConfigChanged, Producer
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_RECEIVED, REGISTRY
from servicekit.events import Outgoing, new_envelope
from servicekit.kafka import ensure_topics
from servicekit.outbox import outbox_table, stage
from servicekit.runtime import Runtime
from servicekit.testing.helpers import TopicReader
from sqlalchemy import func, select


async def test_ensure_topics_creates_registry_topics_once(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    created = await ensure_topics(kafka_bootstrap, REGISTRY, name_prefix=topic_prefix)
    expected = {topic_prefix + s.name for s in REGISTRY} | {topic_prefix + s.dlq for s in REGISTRY}
    assert set(created) == expected
    assert await ensure_topics(kafka_bootstrap, REGISTRY, name_prefix=topic_prefix) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic_prefix + LEAD_RECEIVED.name])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == LEAD_RECEIVED.partitions


async def test_outbox_publishes_staged_records_once_after_commit(
    runtime: Runtime, unique: str
) -> None:
    await ensure_topics(
        runtime.settings.kafka_bootstrap_servers,
        [CONFIG_CHANGED],
        name_prefix=runtime.settings.topic_prefix,
    )
    await runtime.broker.start()
    envelope = new_envelope(
        CONFIG_CHANGED,
        ConfigChanged(
            actor="tester",
            service="kit",
            entity="tier",
            entity_id="gold",
            action="created",
            before=None,
            after={"rate_per_minute": 60},
        ),
        producer=Producer(service="kit", version="0"),
        event_id=uuid.uuid4(),
        tenant_id=f"tenant-{unique}",
        correlation_id=f"cfg-{unique}",
    )
    async with runtime.sessions() as session, session.begin():
        await stage(session, Outgoing.of(CONFIG_CHANGED, envelope))
    async with runtime.sessions() as session, session.begin():
        # A rolled-back transaction stages nothing.
        await stage(session, Outgoing.of(CONFIG_CHANGED, envelope))
        await session.rollback()

    assert await runtime.outbox.flush() == 1
    assert await runtime.outbox.flush() == 0
    async with runtime.sessions() as session:
        pending = await session.scalar(
            select(func.count()).where(outbox_table.c.published_at.is_(None))
        )
    assert pending == 0
    topic = runtime.settings.topic_prefix + CONFIG_CHANGED.name
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as reader:
        records = await reader.drain()
    assert [r.key for r in records] == [f"tenant-{unique}".encode()]
    assert reader.values()[0]["event_id"] == str(envelope.event_id)
