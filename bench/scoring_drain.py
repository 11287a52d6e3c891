"""Scoring-only throughput: pre-load ``sales.lead.created`` records and time the drain.

``uv run --frozen python -m bench.scoring_drain [--leads N] [--profile out.svg]``

Starts the embedded broker and PostgreSQL (or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``) and only the scoring service, stops it,
publishes N ``sales.lead.created`` records of one fresh tenant (scored with the shipped
default rule set, so every rule is evaluated; about half the leads qualify), starts
scoring again and measures the time from its restart until every lead's ``lead.scored``
is on the topic, and the broker-time span from the first to the last of them. With
``--profile`` a py-spy flame graph of the scoring process is recorded during the drain
(py-spy must be on PATH, e.g. ``uv run --with py-spy``).

Isolates the scoring stage from ingest and the router (the same idea as
``bench.router_drain``), so before/after figures of scoring are comparable on a shared
machine; the first figure includes consumer-group join time, the rate does not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from leadflow_contracts import Envelope, LeadCreated, Producer, utcnow
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import LEAD_CREATED, LEAD_SCORED
from leadflow_local.stack import ServiceProcess, Stack, free_port_offset
from servicekit.events import Outgoing, new_envelope

from bench.load import new_run_id

TITLES = ["CEO", "VP Sales", "Head of Marketing", "Engineer", "Intern", None]
EMAILS = ["corp{n}.example.com", "gmail.com", "bench-{n}.example.org"]


def created(slug: str, run: str, i: int) -> Envelope[Any]:
    """A varied lead (title band, company size, free vs corporate mail, tags, UTM)."""
    lead = Lead(
        lead_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{run}:{i}"),
        tenant_id=slug,
        source="generic" if i % 3 else "referral",
        received_at=utcnow(),
        first_name="Ada",
        last_name=f"Bench{i}",
        email=f"ada.{run}.{i}@" + EMAILS[i % 3].format(n=i % 97),
        company=f"Bench {i % 97} GmbH",
        title=TITLES[i % len(TITLES)],
        company_size=[5, 40, 300, 2500][i % 4],
        country=["DE", "US", "BR", "GB"][i % 4],
        language="de",
        tags=["demo-request"] if i % 2 else [],
        utm={"source": "google", "medium": "cpc"} if i % 5 == 0 else {},
    )
    return new_envelope(
        LEAD_CREATED,
        LeadCreated(lead=lead),
        producer=Producer(service="bench", version="0"),
        event_id=uuid.uuid5(lead.lead_id, "created"),
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
            record = Outgoing.of(LEAD_CREATED, envelope)
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


async def wait_scored(bootstrap: str, slug: str, count: int, timeout_s: float) -> list[float]:
    """Broker timestamps (s) of the first ``lead.scored`` of ``count`` leads of ``slug``."""
    consumer = AIOKafkaConsumer(
        LEAD_SCORED.name, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    started = time.monotonic()
    seen: dict[str, float] = {}
    tenant = slug.encode()
    try:
        while len(seen) < count:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"only {len(seen)}/{count} scored after {timeout_s}s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.value and tenant in record.value:
                        lead_id = orjson.loads(record.value)["lead_id"]
                        seen.setdefault(lead_id, record.timestamp / 1000)
        return sorted(seen.values())
    finally:
        await consumer.stop()


def restart(stack: Stack) -> ServiceProcess:
    """Stop the scoring process, returning what is needed to start a fresh one."""
    old = stack.running.pop()
    old.process.send_signal(signal.SIGTERM)
    old.process.wait(timeout=30)
    old.log.close()
    return old


def start_scoring(stack: Stack, old: ServiceProcess) -> ServiceProcess:
    """A fresh scoring process on the same port and log (``stack.stop`` ends it)."""
    log = open(old.log_path, "ab")  # noqa: SIM115 - closed by stack.stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "leadflow_scoring", "serve"],
        env=stack.service_env("scoring"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    fresh = ServiceProcess("scoring", "scoring", old.port, process, old.log_path, log)
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
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-scoring-bench-"))
    stack = Stack(data_dir=data_dir, port_offset=free_port_offset(), env=env, services=["scoring"])
    print(f"starting broker, database and scoring (logs in {data_dir}) …", flush=True)
    stack.start()
    try:
        run = new_run_id()
        slug = f"bench-{run}"
        # Scoring is stopped while the records are loaded, so it meets a full backlog.
        stopped = restart(stack)
        envelopes = [created(slug, run, i) for i in range(args.leads)]
        print(f"pre-loading {args.leads} sales.lead.created records …", flush=True)
        asyncio.run(preload(stack.bootstrap_servers, envelopes))
        scoring = start_scoring(stack, stopped)
        started = time.monotonic()
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [shutil.which("py-spy") or "py-spy", "record", "-p", str(scoring.process.pid)]
                + ["-o", str(args.profile), "--rate", "50", "--nonblocking"]
                + ([] if args.profile.suffix == ".svg" else ["--format", "raw"]),
                stdout=subprocess.DEVNULL,
            )
        stamps = asyncio.run(wait_scored(stack.bootstrap_servers, slug, args.leads, args.timeout_s))
        elapsed = time.monotonic() - started
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes the flame graph and exits
            spy.wait(timeout=60)
    finally:
        stack.stop()
    span = stamps[-1] - stamps[0]
    print(
        f"scoring: {args.leads} leads scored {elapsed:.1f} s after the backlog was loaded; "
        f"first→last lead.scored {span:.1f} s = {(len(stamps) - 1) / span:.0f} leads/s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
