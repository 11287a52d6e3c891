"""Router-only throughput: pre-load ``lead.qualified`` records and time the drain.

``uv run --frozen python -m bench.router_drain [--leads N] [--profile out.svg]``

Starts the embedded broker and PostgreSQL (or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``) and only the router service, provisions a
tenant through the router's admin API (the same team shape as ``make bench``: one
least-loaded team of 8 reps without practical capacity limits), stops the router, publishes
N ``lead.qualified`` records, starts the router again and measures the time from its
restart until every lead's ``lead.assigned`` is on the topic. With ``--profile`` a py-spy
flame graph of the router process is recorded during the drain (py-spy must be on PATH,
e.g. ``uv run --with py-spy``). Also reports the router's peak RSS during the drain: the
worst case for memory, a consumer meeting a full backlog.

Isolates the router stage from ingest and scoring, so before/after figures of the router
are comparable on a shared machine; the figure includes consumer-group join time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from leadflow_contracts import Envelope, LeadQualified, LeadScored, Producer, utcnow
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import LEAD_QUALIFIED
from leadflow_local.stack import ServiceProcess, Stack, free_port_offset
from servicekit.auth import mint_token
from servicekit.events import Outgoing, new_envelope

from bench.cpu import start_py_spy, stop_py_spy
from bench.load import new_run_id
from bench.provision import provision_router
from bench.run import RssSampler


def qualified(slug: str, run: str, i: int) -> Envelope[Any]:
    lead = Lead(
        lead_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{run}:{i}"),
        tenant_id=slug,
        source="generic",
        received_at=utcnow(),
        first_name="Ada",
        last_name=f"Bench{i}",
        email=f"ada.{run}.{i}@bench-{i % 97}.example.com",
        company=f"Bench {i % 97} GmbH",
        country="DE",
        language="de",
    )
    score = LeadScored(
        score=80, fit=80, engagement=80, threshold=0, qualified=True, reasons=[], rules_version=1
    )
    return new_envelope(
        LEAD_QUALIFIED,
        LeadQualified(lead=lead, score=score),
        producer=Producer(service="bench", version="0"),
        event_id=uuid.uuid5(lead.lead_id, "qualified"),
        tenant_id=slug,
        lead_id=lead.lead_id,
        correlation_id=f"bench-{run}-{i}",
    )


async def preload(bootstrap: str, envelopes: list[Envelope[Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = []
        for envelope in envelopes:
            record = Outgoing.of(LEAD_QUALIFIED, envelope)
            futures.append(
                await producer.send(
                    record.topic,
                    record.value_bytes(),
                    key=record.key.encode(),
                    headers=[(k, v.encode()) for k, v in record.headers.items()],
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def wait_assigned(bootstrap: str, slug: str, count: int, timeout_s: float) -> list[float]:
    """Broker timestamps (s) of the first ``lead.assigned`` of ``count`` leads of ``slug``."""
    consumer = AIOKafkaConsumer(
        "lead.assigned", bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    started = time.monotonic()
    seen: dict[str, float] = {}
    tenant = slug.encode()
    try:
        while len(seen) < count:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"only {len(seen)}/{count} assigned after {timeout_s}s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.value and tenant in record.value:
                        lead_id = orjson.loads(record.value)["lead_id"]
                        seen.setdefault(lead_id, record.timestamp / 1000)
        return sorted(seen.values())
    finally:
        await consumer.stop()


def stop_router(stack: Stack) -> ServiceProcess:
    old = stack.running.pop()
    old.process.send_signal(signal.SIGTERM)
    old.process.wait(timeout=30)
    old.log.close()
    return old


def start_router(stack: Stack, old: ServiceProcess) -> ServiceProcess:
    """A fresh router process on the same port and log (``stack.stop`` ends it)."""
    log = open(old.log_path, "ab")  # noqa: SIM115 - closed by stack.stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "leadflow_router", "serve"],
        env=stack.service_env("router"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    fresh = ServiceProcess("router", "router", old.port, process, old.log_path, log)
    stack.running.append(fresh)
    return fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--timeout-s", type=float, default=600)
    parser.add_argument(
        "--profile", type=Path, help="py-spy profile of the drain (.svg, else collapsed stacks)"
    )
    args = parser.parse_args()
    env = dict(os.environ) | {"LEADFLOW_LOG_LEVEL": "WARNING"}
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-router-bench-"))
    stack = Stack(data_dir=data_dir, port_offset=free_port_offset(), env=env, services=["router"])
    print(f"starting broker, database and router (logs in {data_dir}) …", flush=True)
    stack.start()
    try:
        run = new_run_id()
        slug = f"bench-{run}"
        token = mint_token(stack.jwt_secret, sub="bench", role="admin", tenants=["*"])
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            provision_router(http, stack.url("router"), slug)
        # The router is stopped while the records are loaded, so it meets a full backlog.
        stopped = stop_router(stack)
        envelopes = [qualified(slug, run, i) for i in range(args.leads)]
        print(f"pre-loading {args.leads} lead.qualified records …", flush=True)
        asyncio.run(preload(stack.bootstrap_servers, envelopes))
        router = start_router(stack, stopped)
        started = time.monotonic()
        sampler = RssSampler({"router": router.process.pid})
        sampler.start()
        spy = start_py_spy(router.process.pid, args.profile) if args.profile else None
        stamps = asyncio.run(
            wait_assigned(stack.bootstrap_servers, slug, args.leads, args.timeout_s)
        )
        elapsed = time.monotonic() - started
        sampler.stop()
        if spy is not None:
            stop_py_spy(spy)
    finally:
        stack.stop()
    span = stamps[-1] - stamps[0]
    print(
        f"router: {args.leads} leads assigned {elapsed:.1f} s after the backlog was loaded; "
        f"first→last lead.assigned {span:.1f} s = {(len(stamps) - 1) / span:.0f} leads/s; "
        f"peak RSS {sampler.peak['router'] / 2**20:.0f} MiB",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
