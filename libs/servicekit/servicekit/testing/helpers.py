"""Polling and topic-reading helpers for integration and e2e tests (no fixed sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from leadflow_contracts import TopicSpec

from servicekit.events import Outgoing
from servicekit.settings import ServiceSettings

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout_s: float = 20.0,
    interval_s: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; last value: {last!r}")


async def prepare(
    settings: ServiceSettings, migrations: Path, topics: Sequence[TopicSpec]
) -> ServiceSettings:
    """A service's world under the test's names: its database migrated (``migrations``,
    the service's Alembic folder) and its topics created under the test's prefix."""
    from servicekit.kafka import ensure_topics
    from servicekit.migrations import upgrade

    upgrade(settings.database_url, migrations)
    await ensure_topics(settings.kafka_bootstrap_servers, topics, name_prefix=settings.topic_prefix)
    return settings


def consumer_record(
    topic: str, out: Outgoing, offset: int, *, headers: Sequence[tuple[str, bytes]] = ()
) -> ConsumerRecord[Any, Any]:
    """``out`` as a consumer fetches it from ``topic`` (partition 0), with its contract
    headers plus ``headers``: to hand a batch consumer's ``handle_batch`` exactly the
    batch a test composes."""
    value = out.value_bytes()
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=out.key.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(out.key),
        serialized_value_size=len(value),
        headers=[(k, v.encode()) for k, v in out.headers.items()] + list(headers),
    )


class TopicReader:
    """Reads topics from the beginning (no consumer group) and collects every record."""

    def __init__(self, bootstrap_servers: str, *topics: str) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self.records: list[ConsumerRecord[Any, Any]] = []

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def poll(self) -> list[ConsumerRecord[Any, Any]]:
        batches = await self._consumer.getmany(timeout_ms=100)
        for records in batches.values():
            self.records.extend(records)
        return self.records

    def values(self, topic: str | None = None) -> list[dict[str, Any]]:
        return [
            orjson.loads(r.value)
            for r in self.records
            if (topic is None or r.topic == topic) and r.value
        ]

    async def wait_for(
        self,
        predicate: Callable[[list[ConsumerRecord[Any, Any]]], bool],
        *,
        timeout_s: float = 20.0,
        what: str = "records",
    ) -> list[ConsumerRecord[Any, Any]]:
        async def probe() -> bool:
            return predicate(await self.poll())

        await eventually(probe, timeout_s=timeout_s, what=what)
        return self.records

    async def drain(self, quiet_s: float = 0.5) -> list[ConsumerRecord[Any, Any]]:
        """Read until nothing new arrived for ``quiet_s`` (to prove something did NOT come)."""
        seen = -1
        quiet_until = time.monotonic() + quiet_s
        while time.monotonic() < quiet_until or seen != len(self.records):
            if seen != len(self.records):
                seen = len(self.records)
                quiet_until = time.monotonic() + quiet_s
            await self.poll()
        return self.records
