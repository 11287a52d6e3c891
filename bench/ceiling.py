"""The broker relay ceiling: N records through the same number of consume→produce hops as
the pipeline, with no processing, the same client library (aiokafka) and record size.

Every pipeline figure is reported as a ratio to this one, because absolute numbers move
from run to run on a shared machine.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def _relay(
    bootstrap: str, source: str, target: str, group: str, n: int, ready: asyncio.Event
) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=3000,
        heartbeat_interval_ms=300,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await consumer.start()  # returns once the group assigned its partitions
    await producer.start()
    ready.set()
    relayed = 0
    try:
        while relayed < n:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            futures = [
                await producer.send(target, record.value, key=record.key)
                for records in batches.values()
                for record in records
            ]
            if futures:
                await asyncio.gather(*futures)  # acks=all before committing the input
                await consumer.commit()
                relayed += len(futures)
    finally:
        await consumer.stop()
        await producer.stop()


async def relay_ceiling(
    bootstrap: str, *, records: int = 20_000, hops: int = 4, record_size: int = 1_200
) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    topics = [f"bench.{run}.hop{i}" for i in range(hops + 1)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(t, 4, 1) for t in topics])
    await admin.close()

    ready = [asyncio.Event() for _ in range(hops)]
    relays = [
        asyncio.create_task(
            _relay(bootstrap, topics[i], topics[i + 1], f"relay-{run}-{i}", records, ready[i])
        )
        for i in range(hops)
    ]
    await asyncio.gather(*(event.wait() for event in ready))
    sink = AIOKafkaConsumer(
        topics[-1], bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await sink.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    payload = os.urandom(record_size // 2).hex().encode()
    started = time.perf_counter()
    futures = [await producer.send(topics[0], payload, key=str(i).encode()) for i in range(records)]
    await asyncio.gather(*futures)
    produced_at = time.perf_counter()
    received = 0
    while received < records:
        batches = await sink.getmany(timeout_ms=500)
        received += sum(len(b) for b in batches.values())
    elapsed = time.perf_counter() - started
    await producer.stop()
    await sink.stop()
    await asyncio.gather(*relays)
    return {
        "records": records,
        "hops": hops,
        "record_bytes": len(payload),
        "produce_seconds": produced_at - started,
        "seconds": elapsed,
        "records_per_second": records / elapsed,
    }


if __name__ == "__main__":
    import sys

    print(asyncio.run(relay_ceiling(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092")))
