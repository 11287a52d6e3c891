"""Where the machine's CPU goes during a measurement window: per service process, the
broker, PostgreSQL (every ``postgres`` process: the server's backends do the SQL work)
and the load generator (this process), as CPU seconds and as milliseconds per lead.

On a 2-core machine the pipeline's rate is bounded by the sum of these costs per lead,
so the breakdown says which stage to make cheaper. A PostgreSQL backend that exits
inside the window (a connection a pool opened for one use) is counted too: the
postmaster reaps it, and its CPU time is then in the postmaster's children times.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def _postgres_processes(postmaster: int | None = None) -> list[psutil.Process]:
    """The server ``postmaster`` and its backends, or every PostgreSQL process."""
    if postmaster is not None:
        with contextlib.suppress(psutil.Error):
            server = psutil.Process(postmaster)
            return [server, *server.children()]
        return []
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("postgres", "postmaster"):
            found.append(proc)
    return found


def _cpu_s(proc: psutil.Process, *, reaped_children: bool = False) -> float:
    times = proc.cpu_times()
    seconds = times.user + times.system
    if reaped_children:
        seconds += times.children_user + times.children_system
    return float(seconds)


@dataclass
class CpuMeter:
    """``groups``: name → pid of a process measured alone (services, broker);
    ``postmaster``: the stack's own PostgreSQL (else every PostgreSQL on the machine,
    which on a shared machine includes other people's servers)."""

    groups: dict[str, int]
    postmaster: int | None = None
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _machine_start: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, dict[int, float]]:
        procs: dict[str, list[psutil.Process]] = {
            name: [psutil.Process(pid)] for name, pid in self.groups.items()
        }
        procs["postgres"] = _postgres_processes(self.postmaster)
        procs["load generator"] = [psutil.Process(os.getpid())]
        postgres = {proc.pid for proc in procs["postgres"]}
        sample: dict[str, dict[int, float]] = {}
        for name, members in procs.items():
            sample[name] = {}
            for proc in members:
                with contextlib.suppress(psutil.Error):
                    postmaster = name == "postgres" and proc.ppid() not in postgres
                    sample[name][proc.pid] = _cpu_s(proc, reaped_children=postmaster)
        return sample

    @staticmethod
    def _machine() -> dict[str, float]:
        times = psutil.cpu_times()._asdict()
        # Linux counts guest time inside user/nice already.
        total = sum(v for k, v in times.items() if k not in ("guest", "guest_nice"))
        return {
            "total": float(total),
            "idle": float(times["idle"] + times.get("iowait", 0.0)),
            "steal": float(times.get("steal", 0.0)),
            "softirq": float(times.get("softirq", 0.0) + times.get("irq", 0.0)),
        }

    def start(self) -> None:
        self._start = self._sample()
        self._machine_start = self._machine()

    def stop(self, leads: int) -> dict[str, object]:
        """CPU seconds and ms per lead of every group since ``start``."""
        end = self._sample()
        machine = {k: v - self._machine_start[k] for k, v in self._machine().items()}
        share = {
            k: v / machine["total"] if machine["total"] > 0 else 0.0 for k, v in machine.items()
        }
        groups: dict[str, dict[str, float]] = {}
        for name, pids in end.items():
            before = self._start.get(name, {})
            seconds = sum(cpu - before.get(pid, 0.0) for pid, cpu in pids.items())
            if name == "postgres":  # an exited backend's whole time is in the postmaster's
                seconds -= sum(cpu for pid, cpu in before.items() if pid not in pids)
            groups[name] = {
                "cpu_s": seconds,
                "ms_per_lead": seconds * 1000 / leads if leads else 0.0,
            }
        return {
            "leads": leads,
            "machine_busy": 1 - share["idle"],
            # Time the hypervisor gave to other guests, and interrupt handling (loopback
            # networking): busy, but in no process of the table.
            "machine_steal": share["steal"],
            "machine_irq": share["softirq"],
            "groups": groups,
        }


def start_py_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy samples ``pid`` at 50 Hz until SIGINT (``stop_py_spy``): a flame graph for
    an ``.svg`` output, else collapsed stacks. py-spy must be on PATH
    (``uv run --with py-spy``)."""
    return subprocess.Popen(
        [shutil.which("py-spy") or "py-spy", "record", "-p", str(pid)]
        + ["-o", str(output), "--rate", "50", "--nonblocking"]
        + ([] if output.suffix == ".svg" else ["--format", "raw"]),
        stdout=subprocess.DEVNULL,
    )


def stop_py_spy(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)  # py-spy writes its output and exits
    spy.wait(timeout=60)
