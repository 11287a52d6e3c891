"""Where a lead's end-to-end latency goes, stage by stage, at a fixed offered rate.

``uv run python -m bench.stages --rate 100 --seconds 20`` starts the stack as ``make run``
does, offers signed webhooks at the rate, and times each lead from three clocks: the
sender's (webhook sent), each event's ``occurred_at`` in audit's event store (when the
stage handled the lead) and each record's broker timestamp (when its producer sent it,
read back with a client of our own). Per step it prints p50 / p90 / p99:

- ``sent → lead.received``: the webhook's request until ingest stamped its receipt;
- ``X record → Y``: a stage's record sent until the next stage handled it (the hop:
  broker, fetch, the consumer's batch cycle);
- ``X → X record``: a stage handled the lead until its record was sent (the rest of
  its batch, the commit).

The services' clocks are the machine's: one host, one clock. Environment variables reach
the services (``LEADFLOW_KAFKA_FETCH_MAX_WAIT_MS=…`` tries a setting).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import orjson
import psycopg
from aiokafka import AIOKafkaConsumer
from leadflow_contracts.topics import REGISTRY
from leadflow_local.stack import SERVICE_PORTS, Stack, free_port_offset
from servicekit.db import libpq_url, with_database

from bench.load import LoadResult, new_run_id, open_loop, own_databases, sign_requests
from bench.provision import provision
from bench.report import percentiles
from bench.run import AssignedWatcher

#: The hops of a lead that qualifies and is routed: the stage whose record the next
#: service consumes, and the stage that service's handling stamps.
HOPS = (
    ("lead.received", "lead.created"),  # ingest's worker
    ("lead.created", "lead.scored"),  # scoring (lead.scored and lead.qualified at once)
    ("lead.qualified", "lead.assigned"),  # router
)
#: Event type → topic name (``sales.lead.created`` carries ``lead.created``).
TOPICS = {spec.event_type: spec.name for spec in REGISTRY}

Times = dict[str, dict[str, float]]  # lead id → stage → seconds since the epoch


def _stage_times(database_url: str, tenant: str) -> Times:
    """Each lead's ``occurred_at`` per stage, from audit's event store."""
    times: Times = defaultdict(dict)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT lead_id::text, event_type, occurred_at FROM events WHERE tenant_id = %s",
            (tenant,),
        )
        for lead_id, event_type, occurred_at in rows:
            times[lead_id][event_type] = occurred_at.timestamp()
    return times


async def _record_times(bootstrap: str, tenant: str) -> Times:
    """Each lead's broker timestamp per stage's topic (read until 2 s bring nothing)."""
    event_type = {TOPICS[a]: a for a, _ in HOPS} | {TOPICS["lead.assigned"]: "lead.assigned"}
    consumer = AIOKafkaConsumer(
        *event_type, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    times: Times = defaultdict(dict)
    needle = tenant.encode()
    await consumer.start()
    try:
        quiet = 0
        while quiet < 4:
            batches = await consumer.getmany(timeout_ms=500)
            quiet = 0 if batches else quiet + 1
            for records in batches.values():
                for record in records:
                    if record.value is not None and needle in record.value:
                        lead_id = orjson.loads(record.value).get("lead_id")
                        times[lead_id][event_type[record.topic]] = record.timestamp / 1000
    finally:
        await consumer.stop()
    return times


def steps(result: LoadResult, stages: Times, records: Times) -> dict[str, list[float]]:
    """Seconds per step for every lead that reached ``lead.assigned``."""
    out: dict[str, list[float]] = defaultdict(list)
    webhook_of = {lead: webhook for webhook, lead in result.lead_ids.items()}
    for lead, at in stages.items():
        webhook = webhook_of.get(lead)
        if webhook is None or "lead.assigned" not in at:
            continue
        sent = records.get(lead, {})
        out["sent → lead.received"].append(at["lead.received"] - result.sent_at[webhook])
        for stage, handled in HOPS:
            if stage in sent and stage in at and handled in at:
                out[f"{stage} → {stage} record"].append(sent[stage] - at[stage])
                out[f"{stage} record → {handled}"].append(at[handled] - sent[stage])
            if handled == "lead.scored" and "lead.qualified" in at:
                out["lead.scored → lead.qualified"].append(at["lead.qualified"] - at[handled])
        if "lead.assigned" in sent:
            out["lead.assigned → lead.assigned record"].append(
                sent["lead.assigned"] - at["lead.assigned"]
            )
            out["end to end (sent → lead.assigned record)"].append(
                sent["lead.assigned"] - result.sent_at[webhook]
            )
    return out


async def measure(stack: Stack, rate: int, seconds: int) -> None:
    urls = {name: stack.url(name) for name in SERVICE_PORTS}
    run = new_run_id()
    tenant = await asyncio.to_thread(provision, urls, stack.jwt_secret, run)
    watcher = AssignedWatcher(stack.bootstrap_servers, tenant.slug)
    stop = asyncio.Event()
    watch = asyncio.create_task(watcher.run(stop))
    requests = sign_requests(tenant.secret, rate * seconds, f"{run}t")
    print(f"{rate}/s offered for {seconds} s …", flush=True)
    result = await open_loop(tenant.webhook_url, requests, rate)
    missing = await watcher.wait_for(set(result.lead_ids.values()), 120)
    stop.set()
    await watch
    audit_db = libpq_url(with_database(stack.database_url, stack.database_prefix + "audit"))
    stages = await asyncio.to_thread(_stage_times, audit_db, tenant.slug)
    records = await _record_times(stack.bootstrap_servers, tenant.slug)
    http = percentiles(result.latencies_s)
    print(f"accepted {result.accepted}, not assigned {len(missing)}")
    print("| step | leads | p50 ms | p90 ms | p99 ms |\n|---|---|---|---|---|")
    print(
        f"| HTTP request (sender's view) | {http['count']} | {_ms(http['p50'])} | - | "
        f"{_ms(http['p99'])} |"
    )
    for name, values in steps(result, stages, records).items():
        cuts = sorted(values)
        p = [cuts[min(len(cuts) - 1, int(q * len(cuts)))] for q in (0.5, 0.9, 0.99)]
        print(f"| {name} | {len(cuts)} | " + " | ".join(_ms(v) for v in p) + " |")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=100, help="webhooks offered per second")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    env = dict(os.environ) | {"LEADFLOW_LOG_LEVEL": "WARNING"}
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-stages-"))
    stack = Stack(data_dir=data_dir, port_offset=free_port_offset(), env=env, **own_databases())
    print(f"starting the stack (data and logs in {data_dir}) …", flush=True)
    stack.start()
    try:
        asyncio.run(measure(stack, args.rate, args.seconds))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
