"""What the stage drains share: a stack of one service (optionally several replicas in its
consumer group), a backlog pre-loaded while the service is stopped, and the drain timed
from the restart until every lead's output is on the output topic.

Reported per run: the drain time (includes the consumer-group join), the rate between the
first and the last output's broker timestamp, CPU milliseconds per lead of every replica,
the broker and this stack's PostgreSQL (``bench.cpu``; the figure least sensitive to other
load on a shared machine), and each replica's peak RSS. With several replicas the CPU of
each shows how the topic's partitions were split among them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
from collections.abc import Callable, Coroutine
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from leadflow_contracts import Envelope, TopicSpec
from leadflow_local.stack import Stack, free_port_offset
from servicekit.events import Outgoing

from bench.cpu import CpuMeter, start_py_spy, stop_py_spy
from bench.load import new_run_id, own_databases
from bench.report import cpu_table
from bench.run import RssSampler


def arguments(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--timeout-s", type=float, default=600)
    parser.add_argument(
        "--replicas", type=int, default=1, help="processes in the service's consumer group"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy profile of the drain (.svg, else collapsed stacks)"
    )
    return parser.parse_args()


async def preload(bootstrap: str, spec: TopicSpec, envelopes: list[Envelope[Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = []
        for envelope in envelopes:
            record = Outgoing.of(spec, envelope)
            futures.append(
                await producer.send(
                    record.topic,
                    record.value_bytes(),
                    key=record.key.encode(),
                    headers=record.header_bytes(),
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


#: ``watch(stack, slug, count, timeout_s, on_first)``: waits until the stage's work on
#: ``count`` leads of ``slug`` is visible, returns when each lead's was (s, ascending) and
#: calls ``on_first`` as soon as the first one is.
Watch = Callable[[Stack, str, int, float, Callable[[], None]], Coroutine[Any, Any, list[float]]]


def on_topic(topic: str) -> Watch:
    """The stage is done with a lead once its first record on ``topic`` is there (broker
    timestamp)."""

    async def watch(
        stack: Stack, slug: str, count: int, timeout_s: float, on_first: Callable[[], None]
    ) -> list[float]:
        return await first_seen(stack.bootstrap_servers, topic, slug, count, timeout_s, on_first)

    return watch


async def first_seen(
    bootstrap: str,
    topic: str,
    slug: str,
    count: int,
    timeout_s: float,
    on_first: Callable[[], None],
) -> list[float]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    started = time.monotonic()
    seen: dict[str, float] = {}
    tenant = slug.encode()
    try:
        while len(seen) < count:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"only {len(seen)}/{count} on {topic} after {timeout_s}s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.value and tenant in record.value:
                        if not seen:
                            on_first()
                        lead_id = orjson.loads(record.value)["lead_id"]
                        seen.setdefault(lead_id, record.timestamp / 1000)
        return sorted(seen.values())
    finally:
        await consumer.stop()


@contextmanager
def stopped(stack: Stack, service: str) -> Any:
    """Every replica of ``service`` stopped inside the block, started again (same ports
    and logs) when it ends; yields nothing."""
    replicas = [s for s in stack.running if s.service == service]
    for svc in replicas:
        svc.process.send_signal(signal.SIGTERM)
    for svc in replicas:
        svc.process.wait(timeout=30)
    yield
    for svc in replicas:
        stack.respawn(svc)


@dataclass(frozen=True)
class Drain:
    """One stage's drain: its service, input topic, how to make inputs and how to see that
    a lead is done."""

    service: str
    input: TopicSpec
    done: Watch
    envelope: Callable[[str, str, int], Envelope[Any]]
    #: Called with the running stack and the tenant slug before the backlog is loaded.
    provision: Callable[[Stack, str], None] = lambda stack, slug: None


def run_drain(drain: Drain, args: argparse.Namespace) -> int:
    env = dict(os.environ) | {"LEADFLOW_LOG_LEVEL": "WARNING"}
    data_dir = Path(tempfile.mkdtemp(prefix=f"leadflow-{drain.service}-bench-"))
    stack = Stack(
        data_dir=data_dir,
        port_offset=free_port_offset(),
        env=env,
        services=[drain.service],
        replicas={drain.service: args.replicas},
        **own_databases(),
    )
    print(
        f"starting broker, database and {args.replicas} x {drain.service} (logs in {data_dir}) …",
        flush=True,
    )
    stack.start()
    try:
        run = new_run_id()
        slug = f"bench-{run}"
        drain.provision(stack, slug)
        # The service is stopped while the records are loaded, so it meets a full backlog.
        with stopped(stack, drain.service):
            envelopes = [drain.envelope(slug, run, i) for i in range(args.leads)]
            print(f"pre-loading {args.leads} {drain.input.name} records …", flush=True)
            asyncio.run(preload(stack.bootstrap_servers, drain.input, envelopes))
        started = time.monotonic()
        pids = {s.name: s.process.pid for s in stack.running}
        sampler = RssSampler(pids)
        sampler.start()
        broker = {"broker": stack.kafka.pid} if stack.kafka and stack.kafka.pid else {}
        cpu = CpuMeter(pids | broker, postmaster=stack.postgres.pid if stack.postgres else None)
        spy = start_py_spy(pids[drain.service], args.profile) if args.profile else None
        # CPU is counted from the first output on: the restart's imports and the group
        # join are not per-lead work.
        stamps = asyncio.run(drain.done(stack, slug, args.leads, args.timeout_s, cpu.start))
        elapsed = time.monotonic() - started
        # The leads done in the first output's batch were mostly paid for before it.
        usage = cpu.stop(sum(1 for t in stamps if t > stamps[0]))
        sampler.stop()
        if spy is not None:
            stop_py_spy(spy)
    finally:
        stack.stop()
    span = stamps[-1] - stamps[0]
    rss = ", ".join(f"{name} {peak / 2**20:.0f} MiB" for name, peak in sampler.peak.items())
    print(
        f"{drain.service} x{args.replicas}: {args.leads} leads done "
        f"{elapsed:.1f} s after the backlog was loaded; first→last {span:.1f} s = "
        f"{(len(stamps) - 1) / span:.0f} leads/s; peak RSS {rss}\n\n"
        + cpu_table(usage, "the drain", "leads after the first batch"),
        flush=True,
    )
    return 0
