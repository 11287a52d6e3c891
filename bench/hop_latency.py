"""One hop's latency at low load: a record produced to an idle topic until a subscribed
consumer has it, for several ``fetch_max_wait_ms`` values.

``uv run --frozen python -m bench.hop_latency [--waits 500,100,50,20] [--records 30]``

Starts the embedded broker (or uses ``KAFKA_BOOTSTRAP_SERVERS``), sends one record at a
random moment every 0.1 to 0.7 s and reports the median and worst time from the send until
``getmany`` returned it. Tansu answers a fetch that found nothing only when its wait is
over, so at low load each hop of the pipeline costs up to that wait
(``kafka_fetch_max_wait_ms``; bench/README.md has the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from servicekit.embedded import EmbeddedKafka


async def hop(bootstrap: str, wait_ms: int, records: int) -> list[float]:
    topic = f"hop-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=topic,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=wait_ms,
    )
    try:
        await producer.send_and_wait(topic, b"warm-up")
        await consumer.start()
        while not await consumer.getmany(timeout_ms=1000):
            pass
        latencies = []
        for _ in range(records):
            await asyncio.sleep(random.uniform(0.1, 0.7))
            sent = time.perf_counter()
            await producer.send_and_wait(topic, b"x")
            while not await consumer.getmany(timeout_ms=2000):
                pass
            latencies.append((time.perf_counter() - sent) * 1000)
        return latencies
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waits", default="500,100,50,20")
    parser.add_argument("--records", type=int, default=30)
    args = parser.parse_args()
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if bootstrap is None:
        broker = EmbeddedKafka().start()
        bootstrap = broker.bootstrap_servers
    try:
        print("| fetch_max_wait_ms | median ms | worst ms |\n|---|---|---|")
        for wait in (int(w) for w in args.waits.split(",")):
            latencies = asyncio.run(hop(bootstrap, wait, args.records))
            print(f"| {wait} | {statistics.median(latencies):.1f} | {max(latencies):.1f} |")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
