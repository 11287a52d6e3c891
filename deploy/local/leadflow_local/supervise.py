"""Keeps the embedded stack up while ``make run`` runs: a service process, the embedded
broker or the embedded PostgreSQL that exits without being asked to is started again.

Restarts back off exponentially per unit (``RESTART_BACKOFF``) so a unit that cannot
start does not spin; a unit that stayed up for ``STABLE_S`` starts again from the
shortest delay.
Each exit, restart and return to ready is reported (the console) and appended to
``logs/launcher.log``.

The embedded broker keeps topics in memory, so a restarted broker has none. Services
must never see it without the registry's topics (Tansu creates a topic with its own
defaults for any metadata request that allows auto-creation, and has no switch to turn
that off), so every service process is frozen (SIGSTOP) while the new broker starts and
until it has every registry topic, then continued.

A planned outage (the chaos runner stopping PostgreSQL on purpose) is wrapped in
``hands_off(unit)``: the supervisor leaves that unit alone until the block ends.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from servicekit.consumer import RetryPolicy

if TYPE_CHECKING:
    from leadflow_local.stack import ServiceProcess, Stack

BROKER = "broker"
POSTGRES = "postgres"


#: Delay before restart n of a unit that keeps failing: 0.5 s, 1 s, 2 s … at most 30 s.
RESTART_BACKOFF = RetryPolicy(base_delay_s=0.5, max_delay_s=30.0)
#: A unit up this long starts again from the shortest delay when it next fails.
STABLE_S = 60.0


@dataclass
class _Unit:
    """What the supervisor remembers of one supervised unit between ticks."""

    started_at: float = field(default_factory=time.monotonic)
    failures: int = 0  # consecutive exits without staying up for STABLE_S
    restart_due: float | None = None
    awaiting_ready: bool = False


def _describe(code: int | None) -> str:
    if code is None:
        return "exited"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        report: Callable[[str], None] = print,
        *,
        backoff: RetryPolicy = RESTART_BACKOFF,
        interval_s: float = 0.25,
    ) -> None:
        self.stack = stack
        self.backoff = backoff
        self.interval_s = interval_s
        self.restarts: dict[str, int] = {}
        self._report = report
        self._units: dict[str, _Unit] = {}
        self._held: set[str] = set()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadflow-supervisor", daemon=True)
        self._http = httpx.Client(timeout=1.0)

    def start(self) -> Supervisor:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops supervising; returns once no restart is in progress."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self._http.close()

    @contextlib.contextmanager
    def hands_off(self, unit: str) -> Iterator[None]:
        """Leave ``unit`` alone inside the block (a planned stop and start)."""
        with self._lock:
            self._held.add(unit)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(unit)
                self._units[unit] = _Unit()

    def _say(self, message: str) -> None:
        line = f"[{datetime.now(UTC):%H:%M:%S}] {message}"
        self._report(line)
        with contextlib.suppress(OSError), self.stack.launcher_log.open("a") as log:
            log.write(line + "\n")

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            with self._lock:
                self.tick()

    def tick(self) -> None:
        """One look at every unit: notice exits, restart what is due, report readiness."""
        if self.stack.kafka is not None:
            self._watch(BROKER, self.stack.kafka.poll(), self._restart_broker)
        if self.stack.postgres is not None:
            self._watch(POSTGRES, self.stack.postgres.poll(), self._restart_postgres)
        for svc in list(self.stack.running):
            self._watch(svc.name, svc.process.poll(), functools.partial(self._restart_service, svc))
            self._check_ready(svc)

    def _watch(self, name: str, code: int | None, restart: Callable[[], str | None]) -> None:
        if name in self._held or self._stopping.is_set():
            return
        unit = self._units.setdefault(name, _Unit())
        now = time.monotonic()
        if code is None:
            if unit.restart_due is None and now - unit.started_at >= STABLE_S:
                unit.failures = 0
            return
        if unit.restart_due is None:
            unit.failures += 1
            unit.restart_due = now + self.backoff.delay(unit.failures)
            self._say(
                f"{name} {_describe(code)}; restarting in {self.backoff.delay(unit.failures):.1f} s"
            )
            return
        if now < unit.restart_due:
            return
        number = self.restarts.get(name, 0) + 1
        try:
            detail = restart()
        except Exception as exc:
            unit.failures += 1
            unit.restart_due = time.monotonic() + self.backoff.delay(unit.failures)
            self._say(
                f"{name} did not start again ({exc}); "
                f"next try in {self.backoff.delay(unit.failures):.1f} s"
            )
            return
        self.restarts[name] = number
        self._units[name] = _Unit(failures=unit.failures, awaiting_ready=True)
        self._say(f"{name} restarted (restart #{number})" + (f"; {detail}" if detail else ""))

    def _check_ready(self, svc: ServiceProcess) -> None:
        unit = self._units.get(svc.name)
        if unit is None or not unit.awaiting_ready or svc.process.poll() is not None:
            return
        try:
            ready = self._http.get(f"{svc.url}/readyz").status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready:
            unit.awaiting_ready = False
            up = time.monotonic() - unit.started_at
            self._say(f"{svc.name} ready again {up:.1f} s after restart #{self.restarts[svc.name]}")

    def _restart_service(self, svc: ServiceProcess) -> None:
        self.stack.respawn(svc)

    def _restart_postgres(self) -> None:
        self.stack.restart_postgres()

    def _restart_broker(self) -> str:
        with self.stack.frozen_services():
            created = self.stack.restart_broker()
        return f"created {len(created)} registry topic(s) before services resumed"
