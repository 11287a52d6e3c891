"""``servicekit.commands``: one change, one transaction, one ``config.changed``, a
best-effort flush after the commit — against the real broker and PostgreSQL."""

from __future__ import annotations

import pytest
from leadflow_contracts.topics import CONFIG_CHANGED
from servicekit.commands import NotFound, command
from servicekit.kafka import ensure_topics
from servicekit.outbox import outbox_table
from servicekit.runtime import Runtime
from servicekit.testing.helpers import TopicReader
from sqlalchemy import String, cast, func, select


async def _staged(runtime: Runtime, marker: str) -> tuple[int, int]:
    """(all, unpublished) outbox rows whose record mentions ``marker``."""
    mentions = cast(outbox_table.c.record, String).contains(marker)
    async with runtime.sessions() as session:
        total = await session.scalar(select(func.count()).where(mentions))
        pending = await session.scalar(
            select(func.count()).where(mentions, outbox_table.c.published_at.is_(None))
        )
    return int(total or 0), int(pending or 0)


async def _record(runtime: Runtime, unique: str) -> None:
    async with command(runtime, actor="tester") as cmd:
        await cmd.created(f"tenant-{unique}", "tier", f"gold-{unique}", {"rate_per_minute": 60})


async def test_a_command_announces_its_change_after_the_commit(
    runtime: Runtime, unique: str
) -> None:
    await ensure_topics(
        runtime.settings.kafka_bootstrap_servers,
        [CONFIG_CHANGED],
        name_prefix=runtime.settings.topic_prefix,
    )
    await runtime.broker.start()
    await _record(runtime, unique)
    assert await _staged(runtime, unique) == (1, 0)  # staged and already published
    topic = runtime.settings.topic_prefix + CONFIG_CHANGED.name
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as reader:
        await reader.drain()
    (event,) = [v for v in reader.values() if v["tenant_id"] == f"tenant-{unique}"]
    assert event["payload"]["actor"] == "tester"
    assert event["payload"]["service"] == runtime.settings.service_name
    assert event["correlation_id"] == f"config:tier:gold-{unique}"


async def test_a_refused_command_stages_nothing(runtime: Runtime, unique: str) -> None:
    async def refused() -> None:
        async with command(runtime, actor="tester") as cmd:
            await cmd.deleted(f"tenant-{unique}", "tier", unique, {})
            raise NotFound(f"There is no tier {unique!r}.")

    with pytest.raises(NotFound):
        await refused()
    assert await _staged(runtime, unique) == (0, 0)


async def test_a_failed_flush_leaves_the_change_to_the_relay(
    runtime: Runtime, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broker_down() -> int:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(runtime.outbox, "flush", broker_down)
    await _record(runtime, unique)  # the caller is told of success
    assert await _staged(runtime, unique) == (1, 1)  # committed, waiting for the relay
