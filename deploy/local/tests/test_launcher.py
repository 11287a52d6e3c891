"""`leadflow run` brings the embedded stack up and Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from leadflow_local.stack import SERVICE_PORTS, available_services


def _free_offset() -> int:
    for _ in range(50):
        offset = random.randrange(10_000, 40_000, 10)
        ports = [p + offset for p in SERVICE_PORTS.values()]
        try:
            for port in ports:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free port range found")


def _wait_for_line(process: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    seen = []
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            seen.append(line)
            if marker in line:
                return "".join(seen)
        elif process.poll() is not None:
            break
        else:
            time.sleep(0.1)
    raise AssertionError(f"{marker!r} not printed; output so far:\n{''.join(seen)}")


def test_run_starts_everything_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    offset = _free_offset()
    # Embedded defaults: no external broker or database named.
    env = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadflow_local.cli",
            "run",
            "--data-dir",
            str(tmp_path),
            "--port-offset",
            str(offset),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _wait_for_line(process, "Press Ctrl-C", timeout_s=180)
        launcher = psutil.Process(process.pid)
        children = launcher.children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "tansu" in names
        assert "postgres" in names
        for service in available_services():
            assert f"leadflow_{service}" in names
            url = f"http://127.0.0.1:{SERVICE_PORTS[service] + offset}/readyz"
            assert httpx.get(url, timeout=5).json()["status"] == "ready", service
            assert url.rsplit("/", 1)[0] in output

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"left behind: {[p.pid for p in alive]}"
    finally:
        if process.poll() is None:
            process.kill()
