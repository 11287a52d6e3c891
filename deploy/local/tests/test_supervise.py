"""`leadflow run` brings back what dies: a service killed with SIGKILL and the embedded
broker (whose in-memory topics the launcher recreates before services resume)."""

from __future__ import annotations

import signal

import httpx
import psutil
from confluent_kafka.admin import AdminClient
from leadflow_contracts.topics import all_topics


def _child(launcher: psutil.Process, needle: str) -> psutil.Process:
    matches = [c for c in launcher.children() if needle in " ".join(c.cmdline())]
    assert len(matches) == 1, [c.cmdline() for c in launcher.children()]
    return matches[0]


def test_killed_service_and_broker_come_back(launcher) -> None:
    process = launcher.process
    output = launcher.wait_for_line("Press Ctrl-C", timeout_s=180)
    broker_url = next(line.split()[1] for line in output.splitlines() if "broker" in line)
    parent = psutil.Process(process.pid)

    scoring = _child(parent, "leadflow_scoring")
    scoring.send_signal(signal.SIGKILL)
    log = launcher.wait_for_line("scoring ready again", timeout_s=120)
    assert "scoring killed by SIGKILL" in log
    assert "scoring restarted (restart #1)" in log
    assert _child(parent, "leadflow_scoring").pid != scoring.pid
    ready = httpx.get(f"{launcher.url('scoring')}/readyz", timeout=5).json()
    assert ready["status"] == "ready"

    broker = _child(parent, "tansu")
    broker.send_signal(signal.SIGKILL)
    log = launcher.wait_for_line("broker restarted", timeout_s=120)
    assert "broker killed by SIGKILL" in log
    assert f"broker restarted (restart #1); created {len(all_topics())} registry" in log
    assert _child(parent, "tansu").pid != broker.pid
    topics = AdminClient({"bootstrap.servers": broker_url}).list_topics(timeout=10).topics
    assert set(all_topics()) <= set(topics)

    children = parent.children(recursive=True)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert "Restarts during this run: broker 1, scoring 1" in process.stdout.read()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"
