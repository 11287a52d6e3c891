"""``leadflow run`` as a user starts it: the CLI in its own process, embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from leadflow_local.stack import SERVICE_PORTS, free_port_offset


@dataclass
class Launcher:
    process: subprocess.Popen[str]
    offset: int

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + self.offset}"

    def wait_for_line(self, marker: str, timeout_s: float) -> str:
        """What the launcher printed up to and including the first line with ``marker``."""
        deadline = time.monotonic() + timeout_s
        seen = []
        assert self.process.stdout is not None
        os.set_blocking(self.process.stdout.fileno(), False)
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line:
                seen.append(line)
                if marker in line:
                    return "".join(seen)
            elif self.process.poll() is not None:
                break
            else:
                time.sleep(0.1)
        raise AssertionError(f"{marker!r} not printed; output so far:\n{''.join(seen)}")


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    offset = free_port_offset()
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
        yield Launcher(process, offset)
    finally:
        if process.poll() is None:
            process.kill()
