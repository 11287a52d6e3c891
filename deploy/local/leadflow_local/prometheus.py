"""A local Prometheus (the ``prometheus`` binary, e.g. Debian's package) beside the stack.

``leadflow run --with-prometheus`` and journey 13 start it with the alert rules of
``deploy/compose/prometheus/rules`` and one scrape target per service, so the rules are
evaluated against live metrics, not only unit-tested. Data lives in a scratch folder
under the stack's data directory; ``stop`` ends the process.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import yaml
from servicekit.embedded import free_port

from leadflow_local.observability import COMPOSE_DIR


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


@dataclass
class LocalPrometheus:
    #: Service name → base URL (``http://127.0.0.1:8001``).
    targets: dict[str, str]
    data_dir: Path
    interval_s: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, object]:
        rules = sorted(str(p) for p in (COMPOSE_DIR / "prometheus" / "rules").glob("*.yml"))
        static = [
            {"targets": [url.split("://", 1)[1]], "labels": {"leadflow_service": name}}
            for name, url in self.targets.items()
        ]
        every = f"{self.interval_s}s"
        return {
            "global": {"scrape_interval": every, "evaluation_interval": every},
            "rule_files": rules,
            "scrape_configs": [{"job_name": "leadflow", "static_configs": static}],
        }

    def start(self, timeout_s: float = 30.0) -> LocalPrometheus:
        binary = prometheus_binary()
        if binary is None:
            raise RuntimeError(
                "prometheus is not installed (Debian/Ubuntu: apt-get install prometheus)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self._log = open(self.data_dir / "prometheus.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.data_dir / "prometheus.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"prometheus exited with {self.process.returncode}:\n{log}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"prometheus not ready after {timeout_s}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
