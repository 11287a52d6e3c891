"""Ingest-only throughput: the webhook API and its ``lead.received`` worker, nothing else.

``uv run --frozen python -m bench.ingest_only [--seconds S] [--concurrency C] [--profile f]``

Starts the embedded broker and PostgreSQL (or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``) and only the ingest service, provisions
one tenant with no practical limits through ingest's admin API, then sends pre-signed
webhooks with ``C`` requests in flight for ``S`` seconds (``bench.load.closed_loop``, as
``make bench`` does) and waits until the worker emitted ``sales.lead.created`` for every
accepted webhook. Reports accepted/s, HTTP latency percentiles, the worker's drain time
and ingest's peak RSS (sampled every 0.25 s). With ``--profile`` a py-spy flame graph
(``.svg``) or collapsed stacks (anything else) of the ingest process is recorded while
the load runs (py-spy on PATH, e.g. ``uv run --with py-spy``).

Isolates ingest from scoring, router and audit (the same idea as ``bench.router_drain``)
so before/after figures of ingest are comparable on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from aiokafka import AIOKafkaConsumer
from leadflow_contracts.topics import LEAD_CREATED
from leadflow_local.stack import Stack, free_port_offset
from servicekit.auth import mint_token

from bench.cpu import start_py_spy, stop_py_spy
from bench.load import closed_loop, new_run_id, own_databases, sign_requests
from bench.report import percentiles
from bench.run import RssSampler


def provision_ingest(url: str, jwt_secret: str, slug: str) -> str:
    """Tier + tenant + generic source; returns the signing secret."""
    token = mint_token(jwt_secret, sub="bench", role="admin", tenants=["*"], ttl_s=7200)
    tier = {
        "name": slug,
        "rate_per_minute": 1_000_000,
        "monthly_quota": 2_000_000_000,
        "sla_minutes": 60,
        "features": {},
    }
    tenant = {"slug": slug, "name": "Bench", "tier": slug, "default_region": "DE"}
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for path, body in (("/v1/tiers", tier), ("/v1/tenants", tenant)):
            http.post(f"{url}{path}", json=body).raise_for_status()
        source = http.post(f"{url}/v1/tenants/{slug}/sources", json={"source": "generic"})
        source.raise_for_status()
        return str(source.json()["secret"])


async def wait_created(bootstrap: str, slug: str, lead_ids: set[str], timeout_s: float) -> float:
    """Seconds until every one of ``lead_ids`` has a ``sales.lead.created``."""
    consumer = AIOKafkaConsumer(
        LEAD_CREATED.name, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    started = time.monotonic()
    missing = set(lead_ids)
    tenant = slug.encode()
    try:
        while missing:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{len(missing)} leads without lead.created after {timeout_s}s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.value and tenant in record.value and record.key:
                        missing.discard(record.key.decode())
        return time.monotonic() - started
    finally:
        await consumer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-requests", type=int, default=60_000)
    parser.add_argument("--drain-timeout-s", type=float, default=300)
    parser.add_argument("--profile", type=Path, help="py-spy profile (.svg, else collapsed)")
    args = parser.parse_args()
    env = dict(os.environ) | {"LEADFLOW_LOG_LEVEL": "WARNING"}
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-ingest-bench-"))
    stack = Stack(
        data_dir=data_dir,
        port_offset=free_port_offset(),
        env=env,
        services=["ingest"],
        **own_databases(),
    )
    print(f"starting broker, database and ingest (logs in {data_dir}) …", flush=True)
    stack.start()
    try:
        ingest = stack.running[0]
        run = new_run_id()
        slug = f"bench-{run}"
        secret = provision_ingest(stack.url("ingest"), stack.jwt_secret, slug)
        url = f"{stack.url('ingest')}/v1/webhooks/{slug}/generic"
        # A short warm-up (imports, pools, caches), not counted.
        asyncio.run(closed_loop(url, sign_requests(secret, 200, run + "w"), 8))
        requests = sign_requests(secret, args.max_requests, run)
        sampler = RssSampler({"ingest": ingest.process.pid})
        sampler.start()
        spy = None
        if args.profile:
            spy = start_py_spy(ingest.process.pid, args.profile)
        print(f"load: {args.concurrency} in flight for {args.seconds:.0f} s …", flush=True)
        process = psutil.Process(ingest.process.pid)
        cpu_before, machine_before = process.cpu_times(), psutil.cpu_times()
        result = asyncio.run(closed_loop(url, requests, args.concurrency, args.seconds))
        cpu_after, machine_after = process.cpu_times(), psutil.cpu_times()
        drain = asyncio.run(
            wait_created(
                stack.bootstrap_servers,
                slug,
                set(result.lead_ids.values()),
                args.drain_timeout_s,
            )
        )
        if spy is not None:
            stop_py_spy(spy)
        sampler.stop()
    finally:
        stack.stop()
    p = percentiles(result.latencies_s)
    ingest_cpu_s = sum(cpu_after[:2]) - sum(cpu_before[:2])
    idle_s = machine_after.idle - machine_before.idle
    busy = 1 - idle_s / (result.seconds * (psutil.cpu_count() or 1))
    print(
        f"ingest: {result.accepted} accepted in {result.seconds:.1f} s = "
        f"{result.accepted / result.seconds:.0f}/s; statuses {sorted(result.statuses.items())}"
        f"\nHTTP latency ms: "
        + " / ".join(f"{k} {(p[k] or 0) * 1000:.0f}" for k in ("p50", "p95", "p99"))
        + f"\nCPU during the load: ingest {ingest_cpu_s / result.seconds:.0%} of a core "
        f"({ingest_cpu_s * 1000 / max(1, result.accepted):.2f} ms per accepted webhook, "
        f"API and worker), machine {busy:.0%} busy"
        f"\nworker: every accepted lead created {drain:.1f} s after the load ended"
        f"\npeak RSS ingest: {sampler.peak['ingest'] / 2**20:.0f} MiB",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
