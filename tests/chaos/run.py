"""``make chaos``: every fault scenario against the embedded stack under load.

Each scenario gets a fresh stack, started and supervised as ``make run`` does, a tenant
that qualifies and routes every lead (``bench.provision``), and signed webhooks at a
bounded rate from an honest sender (``tests.chaos.sender``). The fault is injected
``--inject-at`` seconds into the load; the load goes on until ``--tail`` seconds after
the fault is lifted. Then the runner waits for the pipeline to drain and counts every
lead answered 202 (or 200 on a retry) from the services' own data: router assignments,
audit events, stored dead letters, and ``lead.assigned`` / ``*.dlq`` as confluent-kafka
read them.

Prints a table, writes ``bench/results/chaos-<time>.json``; exit code 1 when a scenario
lost a lead, assigned one twice, dead-lettered a good record or did not recover.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from leadflow_contracts.topics import LEAD_ASSIGNED
from leadflow_local.stack import Stack, free_port_offset

from bench.load import new_run_id
from bench.provision import provision
from tests.chaos.evidence import log_highlights, log_sizes
from tests.chaos.faults import SCENARIOS, Scenario
from tests.chaos.observe import JOURNEY, ReadinessLog, ServiceData, TopicWatcher
from tests.chaos.report import print_table, verdict
from tests.chaos.sender import SendLog, leads, send_at_rate

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


async def _drain(
    sent: SendLog, watcher: TopicWatcher, stall_s: float, max_s: float
) -> dict[str, Any]:
    """Wait until every accepted lead is assigned, or nothing moved for ``stall_s``."""
    started = last_change = time.monotonic()
    seen = -1
    while time.monotonic() - started < max_s:
        accepted = sent.accepted()
        done = sum(1 for lead in accepted if lead in watcher.assigned)
        if done == len(accepted):
            break
        if done != seen:
            seen, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            break
        await asyncio.sleep(0.5)
    return {"drain_s": round(time.monotonic() - started, 1)}


async def _settle_audit(stack: Stack, tenant: str, accepted: set[str], stall_s: float) -> None:
    """Wait until the audit holds the whole journey of every assigned lead (or stalls)."""
    last, last_change = -1, time.monotonic()
    while time.monotonic() - last_change < stall_s:
        data = await asyncio.to_thread(ServiceData.read, stack.database_url, tenant)
        complete = sum(1 for lead in accepted if set(JOURNEY) <= data.audit.get(lead, {}).keys())
        if complete == len(accepted):
            return
        if complete != last:
            last, last_change = complete, time.monotonic()
        await asyncio.sleep(1.0)


def _count(
    sent: SendLog, watcher: TopicWatcher, data: ServiceData, lifted_at: float
) -> dict[str, Any]:
    accepted = sent.accepted()
    twice = lost = 0
    audit_incomplete = 0
    lost_reached: Counter[str] = Counter()  # how far each lost lead got, as audit saw it
    lost_examples: list[str] = []
    for lead in accepted:
        on_topic = len(watcher.assigned.get(lead, ()))
        in_router = data.assignments.get(lead, 0)
        audited = data.audit.get(lead, {})
        if on_topic == 0 and in_router == 0:
            lost += 1
            lost_reached[next((t for t in reversed(JOURNEY) if t in audited), "nothing")] += 1
            if len(lost_examples) < 20:
                lost_examples.append(lead)
        elif on_topic > 1 or in_router > 1 or audited.get(LEAD_ASSIGNED.event_type, 0) > 1:
            twice += 1
        if not set(JOURNEY) <= audited.keys():
            audit_incomplete += 1
    flows_again = [
        watcher.assigned_at[lead]
        for lead, outcome in accepted.items()
        if outcome.first_sent >= lifted_at and lead in watcher.assigned_at
    ]
    never_answered = sum(1 for o in sent.outcomes.values() if o.final_status is None)
    return {
        "webhooks": len(sent.outcomes),
        "accepted": len(accepted),
        "exactly_once": len(accepted) - lost - twice,
        "lost": lost,
        "lost_last_audited": dict(lost_reached),
        "lost_examples": lost_examples,
        "assigned_twice": twice,
        "dead_letters_of_good_records": max(len(watcher.dead_letters), data.dead_letters),
        "dead_letters_on_topics": len(watcher.dead_letters),
        "dead_letters_stored": data.dead_letters,
        "dead_letter_kinds": data.dead_letter_kinds,
        "audit_incomplete": audit_incomplete,
        "answers": {str(code): n for code, n in sorted(sent.answers.items())},
        "final_answers": _final_answers(sent),
        "gave_up": never_answered,
        "assigned_not_answered": sum(
            1 for lead in watcher.assigned if lead not in accepted and lead in data.assignments
        ),
        "first_flow_after_lift": min(flows_again) if flows_again else None,
    }


def _final_answers(sent: SendLog) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in sent.outcomes.values():
        key = str(outcome.final_status) if outcome.final_status is not None else "gave up"
        counts[key] = counts.get(key, 0) + 1
    return counts


async def run_scenario(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-chaos-"))
    env = dict(os.environ) | {"LEADFLOW_LOG_LEVEL": args.log_level}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"):
        env.pop(name, None)  # the faults act on the embedded broker and PostgreSQL
    stack = Stack(data_dir, port_offset=free_port_offset(), env=env, replicas=scenario.replicas)
    print(f"\n== {scenario.name} (data and logs in {data_dir})", flush=True)
    launcher_lines: list[str] = []

    def report(line: str) -> None:
        launcher_lines.append(line)
        print(f"   launcher: {line}", flush=True)

    await asyncio.to_thread(stack.start)
    stack.supervise(report)
    try:
        return await _measure(stack, scenario, args, launcher_lines)
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(data_dir / "postgres", ignore_errors=True)  # the logs stay


async def _measure(
    stack: Stack, scenario: Scenario, args: argparse.Namespace, launcher_lines: list[str]
) -> dict[str, Any]:
    urls = {name: stack.url(name) for name in stack.services}
    run = new_run_id()
    tenant = await asyncio.to_thread(provision, urls, stack.jwt_secret, run)
    watcher = TopicWatcher(stack.bootstrap_servers, tenant.slug).start()
    readiness = ReadinessLog({s.name: s.url for s in stack.running})
    stop_polling = asyncio.Event()
    polling = asyncio.create_task(readiness.run(stop_polling))
    seconds = max(args.count / args.rate, args.inject_at + scenario.outage_s + args.tail)
    batch = leads(run, int(seconds * args.rate))
    sent = SendLog()
    print(f"   {len(batch)} webhooks at {args.rate}/s; fault at {args.inject_at} s", flush=True)
    sending = asyncio.create_task(
        send_at_rate(tenant.webhook_url, tenant.secret, batch, args.rate, sent)
    )
    await asyncio.sleep(args.inject_at)
    logs_at_injection = log_sizes(stack.data_dir / "logs")
    injected_at = time.time()
    await scenario.fault(stack, sent)
    lifted_at = time.time()
    print(f"   fault lifted after {lifted_at - injected_at:.1f} s", flush=True)
    await sending
    drain = await _drain(sent, watcher, args.stall, args.max_drain)
    accepted = set(sent.accepted())
    await _settle_audit(stack, tenant.slug, accepted, stall_s=15)
    data = await asyncio.to_thread(ServiceData.read, stack.database_url, tenant.slug)
    await readiness.wait_all_ready(lifted_at, args.recover_timeout)
    stop_polling.set()
    await polling
    watcher.stop()
    counts = _count(sent, watcher, data, lifted_at)
    ready = readiness.first_all_ready(lifted_at)
    flow = counts.pop("first_flow_after_lift")
    recover = None if ready is None or flow is None else round(max(ready, flow) - lifted_at, 1)
    result = {
        "scenario": scenario.name,
        "tenant": tenant.slug,
        **counts,
        "seconds_to_recover": recover,
        "fault_lasted_s": round(lifted_at - injected_at, 1),
        "not_ready_seen": readiness.not_ready_seen(),
        "readiness_after_injection": readiness.transitions(since=injected_at),
        "first_all_ready_after_lift": None if ready is None else round(ready - lifted_at, 1),
        "first_assigned_after_lift": None if flow is None else round(flow - lifted_at, 1),
        "launcher": launcher_lines,
        "restarts": dict(stack.supervisor.restarts) if stack.supervisor else {},
        "logs": log_highlights(stack.data_dir / "logs", since=logs_at_injection),
        **drain,
    }
    result["verdict"] = verdict(result)
    print(
        f"   {result['verdict']}: {counts['accepted']} accepted, {counts['lost']} lost, "
        f"{counts['assigned_twice']} twice, {result['dead_letters_of_good_records']} dead "
        f"letters, recovered in {recover} s",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000, help="webhooks at least (per scenario)")
    parser.add_argument("--rate", type=float, default=60.0, help="webhooks per second")
    parser.add_argument("--inject-at", type=float, default=10.0)
    parser.add_argument("--tail", type=float, default=20.0, help="load after the fault lifts (s)")
    parser.add_argument("--stall", type=float, default=45.0, help="drain gives up after (s)")
    parser.add_argument("--max-drain", type=float, default=240.0)
    parser.add_argument(
        "--recover-timeout", type=float, default=120.0, help="readiness wait after the drain (s)"
    )
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--only", action="append", help="scenarios whose name contains this")
    parser.add_argument("--out", type=Path, help="result JSON (default bench/results/...)")
    args = parser.parse_args(argv)
    scenarios = [s for s in SCENARIOS if not args.only or any(o in s.name for o in args.only)]
    started = datetime.now(UTC)
    out = args.out or RESULTS / f"chaos-{started:%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    # The JSON is rewritten after each scenario: a run cut short keeps what it measured.
    for scenario in scenarios:
        results.append(asyncio.run(run_scenario(scenario, args)))
        document = {
            "started_at": started.isoformat(),
            "args": vars(args) | {"out": str(out)},
            "scenarios": results,
        }
        out.write_bytes(
            orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        )
    print_table(results)
    print(f"\nwritten: {out}")
    return 0 if all(r["verdict"] == "PASS" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
