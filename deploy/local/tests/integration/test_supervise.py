"""`leadflow run` brings back what dies: a service killed with SIGKILL, the embedded
broker (whose in-memory topics the launcher recreates before services resume) and the
embedded PostgreSQL stopped behind the launcher's back."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import psutil
from confluent_kafka.admin import AdminClient
from leadflow_contracts.topics import all_topics
from leadflow_local.stack import available_services
from servicekit.embedded import EmbeddedPostgres
from servicekit.testing.helpers import eventually


def _child(launcher: psutil.Process, needle: str) -> psutil.Process:
    matches = [c for c in launcher.children() if needle in " ".join(c.cmdline())]
    assert len(matches) == 1, [c.cmdline() for c in launcher.children()]
    return matches[0]


def test_killed_service_broker_and_postgres_come_back(launcher, tmp_path: Path) -> None:
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

    EmbeddedPostgres(tmp_path / "postgres").shutdown("immediate")
    log = launcher.wait_for_line("postgres restarted", timeout_s=120)
    assert "postgres exited" in log
    for service in available_services():
        url = f"{launcher.url(service)}/readyz"

        async def ready(url: str = url) -> bool:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(url)).status_code == 200

        asyncio.run(eventually(ready, timeout_s=60, what=f"{service} ready"))

    children = parent.children(recursive=True)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert "Restarts during this run: broker 1, postgres 1, scoring 1" in process.stdout.read()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"
