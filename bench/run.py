"""``make bench``: throughput, latency and memory of the whole pipeline on this machine.

Starts the stack as ``make run`` does (embedded defaults, or the broker/database named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``), provisions a tenant that qualifies and
routes every lead, then measures in one run: the broker relay ceiling (4 hops), ingest
accepted webhooks/s at fixed concurrency, end-to-end latency at a fixed offered rate, the
sustained pipeline rate webhook → ``lead.assigned``, zero loss, audit lag and peak RSS.
Writes ``bench/results/<timestamp>.json`` and ``.png`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from aiokafka import AIOKafkaConsumer
from leadflow_local.stack import SERVICE_PORTS, Stack, free_port_offset

from bench.ceiling import relay_ceiling
from bench.cpu import CpuMeter, start_py_spy, stop_py_spy
from bench.load import LoadResult, closed_loop, new_run_id, open_loop, own_databases, sign_requests
from bench.provision import provision
from bench.report import percentiles, write_report


class RssSampler(threading.Thread):
    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.peak: dict[str, int] = dict.fromkeys(pids, 0)
        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(0.25):
            for name, proc in self._procs.items():
                with contextlib.suppress(psutil.Error):
                    self.peak[name] = max(self.peak[name], proc.memory_info().rss)

    def stop(self) -> None:
        self._stop.set()


class AssignedWatcher:
    """Collects ``lead.assigned`` for the bench tenant: lead id → broker timestamp (s)."""

    def __init__(self, bootstrap: str, tenant: str) -> None:
        self._consumer = AIOKafkaConsumer(
            "lead.assigned",
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            max_poll_records=2000,
        )
        self.tenant = tenant.encode()
        self.assigned: dict[str, float] = {}
        self.duplicates = 0
        self.timeline: list[float] = []

    async def run(self, until: asyncio.Event) -> None:
        await self._consumer.start()
        try:
            while not until.is_set():
                batches = await self._consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        if self.tenant not in record.value:
                            continue
                        value = orjson.loads(record.value)
                        lead_id = value["lead_id"]
                        if lead_id in self.assigned:
                            self.duplicates += 1
                            continue
                        self.assigned[lead_id] = record.timestamp / 1000
                        self.timeline.append(record.timestamp / 1000)
        finally:
            await self._consumer.stop()

    async def wait_for(self, lead_ids: set[str], timeout_s: float) -> set[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            missing = lead_ids - self.assigned.keys()
            if not missing:
                return set()
            await asyncio.sleep(0.2)
        return lead_ids - self.assigned.keys()


def _latencies(result: LoadResult, watcher: AssignedWatcher) -> list[float]:
    return [
        watcher.assigned[lead] - result.sent_at[webhook]
        for webhook, lead in result.lead_ids.items()
        if lead in watcher.assigned
    ]


def _audit_lag(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("consumer_lag{") or line.startswith("audit_consumer_lag{")
    )


def _measured_pids(stack: Stack) -> dict[str, int]:
    pids = {s.name: s.process.pid for s in stack.running}
    if stack.kafka is not None and stack.kafka.pid is not None:
        pids["broker"] = stack.kafka.pid
    return pids


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    urls = {name: stack.url(name) for name in SERVICE_PORTS}
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(), "args": vars(args)}
    print("ceiling: relaying through 4 hops …", flush=True)
    results["ceiling"] = await relay_ceiling(stack.bootstrap_servers, records=args.ceiling_records)

    run = new_run_id()
    tenant = await asyncio.to_thread(provision, urls, stack.jwt_secret, run)
    watcher = AssignedWatcher(stack.bootstrap_servers, tenant.slug)
    stop_watching = asyncio.Event()
    watch = asyncio.create_task(watcher.run(stop_watching))

    results["fixed_rates"] = []
    for rate in args.fixed_rates:
        print(f"latency: {rate}/s offered for {args.fixed_seconds}s …", flush=True)
        fixed = sign_requests(tenant.secret, rate * args.fixed_seconds, f"{run}f{rate}")
        fixed_result = await open_loop(tenant.webhook_url, fixed, rate)
        missing = await watcher.wait_for(set(fixed_result.lead_ids.values()), 120)
        results["fixed_rates"].append(
            {
                "offered_per_s": rate,
                "accepted": fixed_result.accepted,
                "statuses": fixed_result.statuses,
                "e2e_latency_s": percentiles(_latencies(fixed_result, watcher)),
                "not_assigned": len(missing),
            }
        )

    print(f"pipeline: max load for {args.sustained_seconds}s …", flush=True)
    sustained = sign_requests(tenant.secret, args.sustained_max_requests, run + "s")
    cpu = CpuMeter(_measured_pids(stack), postmaster=stack.postgres.pid if stack.postgres else None)
    spies = []
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
        spies = [
            start_py_spy(s.process.pid, args.profile_dir / f"{s.name}.txt") for s in stack.running
        ]
    cpu.start()
    started = time.time()
    sustained_result = await closed_loop(
        tenant.webhook_url, sustained, args.concurrency, deadline_s=args.sustained_seconds
    )
    window_end = time.time()
    results["cpu"] = cpu.stop(sustained_result.accepted)
    for spy in spies:
        stop_py_spy(spy)
    assigned_in_window = sum(1 for t in watcher.timeline if started <= t <= window_end)
    audit_lag_at_end = _audit_lag(urls["audit"])
    missing = await watcher.wait_for(set(sustained_result.lead_ids.values()), args.drain_seconds)
    drained_at = time.time()
    results["ingest"] = {
        "concurrency": args.concurrency,
        "accepted_per_s": sustained_result.accepted / sustained_result.seconds,
        "statuses": sustained_result.statuses,
        "http_latency_s": percentiles(sustained_result.latencies_s),
    }
    results["pipeline"] = {
        "window_s": window_end - started,
        "assigned_in_window_per_s": assigned_in_window / (window_end - started),
        "accepted": sustained_result.accepted,
        "drain_s": drained_at - window_end,
        "end_to_end_per_s": (sustained_result.accepted - len(missing)) / (drained_at - started),
        "e2e_latency_s": percentiles(_latencies(sustained_result, watcher)),
        "audit_lag_at_window_end": audit_lag_at_end,
        "audit_lag_after_drain": _audit_lag(urls["audit"]),
    }
    fixed_rates = results["fixed_rates"]
    results["zero_loss"] = {
        "accepted": sum(f["accepted"] for f in fixed_rates) + sustained_result.accepted,
        "not_assigned": len(missing) + sum(f["not_assigned"] for f in fixed_rates),
        "assigned_twice": watcher.duplicates,
    }
    results["timeline"] = {"started": started, "assigned_at": watcher.timeline}
    stop_watching.set()
    await watch
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sustained-seconds", type=int, default=60)
    parser.add_argument("--sustained-max-requests", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--fixed-rates",
        type=lambda text: [int(r) for r in text.split(",")],
        default=[100, 200],
        help="offered rates (leads/s, comma-separated) for the end-to-end latency phases",
    )
    parser.add_argument("--fixed-seconds", type=int, default=20)
    parser.add_argument("--ceiling-records", type=int, default=20_000)
    parser.add_argument("--drain-seconds", type=int, default=300)
    parser.add_argument(
        "--replicas",
        type=lambda text: {k: int(n) for k, n in (p.split("=") for p in text.split(",") if p)},
        default={},
        help="processes per service in its consumer group, e.g. scoring=2,router=2 "
        "(scale-out; on 2 cores the replicas share the same CPUs)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        help="py-spy every service during the sustained window: <dir>/<service>.txt "
        "(collapsed stacks; py-spy on PATH, e.g. uv run --with py-spy)",
    )
    args = parser.parse_args()
    env = dict(os.environ) | {"LEADFLOW_LOG_LEVEL": "WARNING"}
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-bench-"))
    stack = Stack(
        data_dir=data_dir,
        port_offset=free_port_offset(),
        env=env,
        replicas=args.replicas,
        **own_databases(),
    )
    print(f"starting the stack (data and logs in {data_dir}) …", flush=True)
    stack.start()
    sampler = RssSampler({s.name: s.process.pid for s in stack.running})
    sampler.start()
    try:
        results = asyncio.run(measure(stack, args))
    finally:
        sampler.stop()
        stack.stop()
    results["peak_rss_mib"] = {name: rss / 2**20 for name, rss in sampler.peak.items()}
    write_report(results, Path(__file__).parent / "results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
