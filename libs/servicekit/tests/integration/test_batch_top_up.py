"""A batch takes what the fetch sent as it began brings (``engine.top_up``), against the
real broker: a record that arrives while a batch is handled is in the next batch, not the
one after it, and a failed batch comes again whole, topped-up records included."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from leadflow_contracts.topics import LEAD_RECEIVED
from servicekit.engine import ConsumerEngine, Done, rewind
from servicekit.kafka import ensure_topics
from servicekit.runtime import Runtime
from servicekit.settings import ServiceSettings
from servicekit.testing.helpers import eventually


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> ServiceSettings:
    # A long top-up: it returns as soon as the fetch does, and a loaded machine must not
    # make the first test's outcome depend on a round trip's length.
    return ServiceSettings(**service_settings, service_name="kit-test", kafka_batch_top_up_ms=5_000)


class Recorder:
    """Handles records of ``{"n": …}``; the first batch waits for ``release``."""

    def __init__(self, runtime: Runtime, group: str) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.engine: ConsumerEngine[int, Done] = ConsumerEngine(
            runtime,
            [LEAD_RECEIVED.name],
            group,
            self.handle,
            parse=lambda record: int(orjson.loads(record.value)["n"]),
            key=lambda n: n,
            trace_records=False,
        )
        self.engine.register(max_records=50, timeout_ms=50)

    async def handle(self, items: list[int]) -> Mapping[int, Done]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            await self.release.wait()
        return {n: Done() for n in items}

    def handled(self) -> list[int]:
        return [n for batch in self.batches for n in batch]


async def _send(runtime: Runtime, n: int) -> Any:
    """Publish ``{"n": n}``, always with the same key (one partition); its metadata."""
    ack = await runtime.raw_producer.enqueue(
        runtime.settings.topic_prefix + LEAD_RECEIVED.name,
        orjson.dumps({"n": n}),
        key=b"one-partition",
        headers=(),
    )
    return await ack


async def _second_record_buffered(recorder: Recorder, runtime: Runtime) -> Any:
    """Record 1 in the first (held) batch, record 2 fetched into the consumer's buffer
    meanwhile, record 3 sent after that: aiokafka does not fetch a partition whose
    records wait in its buffer, so record 3 is still at the broker when batch 2 begins."""
    await runtime.start()
    await _send(runtime, 1)
    await eventually(lambda: _true(recorder.batches == [[1]]), what="the first batch")
    second = await _send(runtime, 2)
    tp = TopicPartition(second.topic, second.partition)
    consumer = recorder.engine._consumer

    async def fetched() -> bool:
        return (consumer.highwater(tp) or 0) > second.offset

    await eventually(fetched, what="record 2 in the consumer's buffer")
    await _send(runtime, 3)
    return consumer


async def _true(value: bool) -> bool:
    return value


async def test_a_record_sent_during_a_batch_is_in_the_next_batch(
    runtime: Runtime, unique: str
) -> None:
    recorder = Recorder(runtime, f"kit-top-up-{unique}")
    await _second_record_buffered(recorder, runtime)
    recorder.release.set()

    await eventually(lambda: _true(len(recorder.handled()) == 3), what="all three records")
    # Without the top-up: [[1], [2], [3]]: record 3 waits for the batch after next.
    assert recorder.batches == [[1], [2, 3]]


async def test_a_failed_batch_comes_again_with_its_topped_up_records(
    runtime: Runtime, unique: str
) -> None:
    recorder = Recorder(runtime, f"kit-top-up-fail-{unique}")
    handle_batch = recorder.engine.handle_batch
    calls = 0

    async def fails_once_after_the_first(
        records: Sequence[ConsumerRecord[Any, Any]], consumer: Any = None
    ) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("a bug in batch 2, after the top-up")
        await handle_batch(records, consumer)

    recorder.engine.handle_batch = fails_once_after_the_first  # type: ignore[method-assign]
    await _second_record_buffered(recorder, runtime)
    recorder.release.set()

    await eventually(lambda: _true(len(recorder.handled()) == 3), what="all three records")
    assert calls == 3
    assert recorder.batches == [[1], [2, 3]]


async def test_rewind_seeks_every_partition_of_a_batch_to_its_earliest_record(
    settings: ServiceSettings, unique: str
) -> None:
    topic = f"{settings.topic_prefix}{LEAD_RECEIVED.name}"
    await ensure_topics(
        settings.kafka_bootstrap_servers, [LEAD_RECEIVED], name_prefix=settings.topic_prefix
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for partition in (0, 1):
            for n in range(3):
                await producer.send_and_wait(
                    topic, f"{partition}-{n}".encode(), partition=partition
                )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"kit-rewind-{unique}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        records = await _consume(consumer, 6, "six records")
        # A batch of the last two records of partition 0 and the last of partition 1.
        batch = [r for r in records if r.offset >= 1 and r.partition == 0]
        batch += [r for r in records if r.offset == 2 and r.partition == 1]
        rewind(consumer, batch)
        assert await consumer.position(TopicPartition(topic, 0)) == 1
        assert await consumer.position(TopicPartition(topic, 1)) == 2
        again = await _consume(consumer, 3, "the rewound records")
        assert sorted((r.partition, r.value) for r in again) == [
            (0, b"0-1"),
            (0, b"0-2"),
            (1, b"1-2"),
        ]
    finally:
        await consumer.stop()


async def _consume(consumer: AIOKafkaConsumer, n: int, what: str) -> list[ConsumerRecord[Any, Any]]:
    """Poll ``consumer`` until it has given ``n`` records."""
    records: list[ConsumerRecord[Any, Any]] = []

    async def enough() -> bool:
        batches = await consumer.getmany(timeout_ms=200)
        records.extend(r for rs in batches.values() for r in rs)
        return len(records) >= n

    await eventually(enough, what=what)
    return records
