"""`leadflow run` brings the embedded stack up and Ctrl-C leaves no process behind."""

from __future__ import annotations

import signal

import httpx
import psutil
from leadflow_local.stack import available_services


def test_run_starts_everything_and_ctrl_c_leaves_no_process(launcher) -> None:
    process = launcher.process
    output = launcher.wait_for_line("Press Ctrl-C", timeout_s=180)
    children = psutil.Process(process.pid).children(recursive=True)
    names = " ".join(" ".join(c.cmdline()) for c in children)
    assert "tansu" in names
    assert "postgres" in names
    for service in available_services():
        assert f"leadflow_{service}" in names
        url = launcher.url(service)
        assert httpx.get(f"{url}/readyz", timeout=5).json()["status"] == "ready", service
        assert url in output

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"
