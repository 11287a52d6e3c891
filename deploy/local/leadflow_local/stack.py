"""The embedded stack behind ``make run``: broker, PostgreSQL and every service.

Starts the Tansu broker unless ``KAFKA_BOOTSTRAP_SERVERS`` is set and an embedded
PostgreSQL under ``.data/postgres`` unless ``DATABASE_URL`` is set; creates the topics
from the registry, one database per service, migrates each, starts each service as its
own process (which migrates its database before serving), waits until every
``/readyz`` is green. ``supervise`` then restarts whatever exits unexpectedly (see
``leadflow_local.supervise``). ``stop`` tears it all down in reverse order: the
supervisor, services, then PostgreSQL and the broker — no orphan processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from leadflow_contracts import REGISTRY
from servicekit.db import drop_database, ensure_database, with_database
from servicekit.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from servicekit.kafka import ensure_topics
from servicekit.settings import DEV_JWT_SECRET

from leadflow_local.supervise import Supervisor

#: Service name → fixed HTTP port (ingest 8001 … dlq 8005; the console takes 8000).
SERVICE_PORTS: dict[str, int] = {
    "ingest": 8001,
    "scoring": 8002,
    "router": 8003,
    "audit": 8004,
    "dlq": 8005,
    "console": 8000,
}
#: Services without a database of their own: the console only calls the others' APIs.
NO_DATABASE = frozenset({"console"})
DEFAULT_KAFKA_PORT = 9092
DEFAULT_PG_PORT = 55432


def _ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range. Service ports stay below it, so the
    broker and PostgreSQL (which take any free port) or any client socket cannot grab a
    service's port between our check and the service's bind."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_offset() -> int:
    """A port offset whose service ports are all free (a second stack beside ``make run``:
    smoke, bench, the launcher's and the journeys' tests)."""
    for _ in range(100):
        offset = random.randrange(1_000, _ephemeral_start() - 8_010, 10)  # noqa: S311
        try:
            for port in (p + offset for p in SERVICE_PORTS.values()):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free port range for a second stack")


def _port_or_free(preferred: int, offset: int = 0) -> int:
    """The well-known port for the default stack; any free port for a side-by-side one."""
    import socket

    if offset:
        return free_port()
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def _die_with_parent() -> None:
    """Children get SIGTERM if the launcher dies abruptly (Linux), so none is orphaned."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def available_services() -> list[str]:
    """The services whose package is installed (``make run`` starts what exists)."""
    return [
        name
        for name in SERVICE_PORTS
        if importlib.util.find_spec(f"leadflow_{name}.__main__") is not None
    ]


@dataclass
class ServiceProcess:
    name: str  # the service, or ``<service>-<n>`` for its n-th replica
    service: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    data_dir: Path
    port_offset: int = 0
    services: list[str] = field(default_factory=available_services)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    #: Each service's database is ``<database_prefix><service>``. A test run on a shared
    #: server gives its own prefix (and ``drop_databases``): runs of different code must
    #: not migrate each other's databases.
    database_prefix: str = "leadflow_"
    drop_databases: bool = False
    #: Processes per service (one consumer group); replicas after the first get free ports.
    replicas: dict[str, int] = field(default_factory=dict)
    kafka: EmbeddedKafka | None = None
    postgres: EmbeddedPostgres | None = None
    bootstrap_servers: str = ""
    database_url: str = ""
    running: list[ServiceProcess] = field(default_factory=list)
    supervisor: Supervisor | None = None

    @property
    def jwt_secret(self) -> str:
        return self.env.get("LEADFLOW_ADMIN_JWT_SECRET") or DEV_JWT_SECRET

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + self.port_offset}"

    def start(self, timeout_s: float = 120.0) -> Stack:
        try:
            self._start_infrastructure()
            asyncio.run(ensure_topics(self.bootstrap_servers, REGISTRY))
            for name in self.services:
                # Each service migrates its own database on start (under an advisory lock).
                if name not in NO_DATABASE:
                    ensure_database(self.service_env(name)["DATABASE_URL"])
                self._spawn(name)
            self._wait_ready(timeout_s)
            # Further replicas start once the first serves, on a migrated database: two
            # scoring replicas migrating at the same moment once failed (DuplicateTable).
            for name in self.services:
                for replica in range(2, self.replicas.get(name, 1) + 1):
                    self._spawn(name, replica)
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def launcher_log(self) -> Path:
        return self.data_dir / "logs" / "launcher.log"

    def supervise(self, report: Callable[[str], None] = print) -> Supervisor:
        """Restart whatever exits unexpectedly from now until ``stop``."""
        self.supervisor = Supervisor(self, report).start()
        return self.supervisor

    def _start_embedded_kafka(self, port: int) -> None:
        self.kafka = EmbeddedKafka(port, log_path=self.data_dir / "logs" / "broker.log").start()
        self.bootstrap_servers = self.kafka.bootstrap_servers

    def _start_embedded_postgres(self, port: int) -> None:
        self.postgres = EmbeddedPostgres(self.data_dir / "postgres", port).start()
        self.database_url = self.postgres.url()

    def _start_infrastructure(self) -> None:
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        if self.env.get("KAFKA_BOOTSTRAP_SERVERS"):
            self.bootstrap_servers = self.env["KAFKA_BOOTSTRAP_SERVERS"]
        else:
            self._start_embedded_kafka(_port_or_free(DEFAULT_KAFKA_PORT, self.port_offset))
        if self.env.get("DATABASE_URL"):
            self.database_url = self.env["DATABASE_URL"]
        else:
            self._start_embedded_postgres(_port_or_free(DEFAULT_PG_PORT, self.port_offset))

    def service_env(self, name: str, port: int | None = None) -> dict[str, str]:
        env = dict(self.env)
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
                "DATABASE_URL": with_database(self.database_url, self.database_prefix + name),
                "LEADFLOW_HTTP_PORT": str(port or SERVICE_PORTS[name] + self.port_offset),
                "LEADFLOW_DEV_MODE": env.get("LEADFLOW_DEV_MODE", "true"),
                "LEADFLOW_ADMIN_JWT_SECRET": self.jwt_secret,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if name == "console":
            env.update(self.console_env())
        return env

    def console_env(self) -> dict[str, str]:
        """The console reaches each service at its URL in this stack."""
        return {
            f"LEADFLOW_{service.upper()}_URL": self.url(service)
            for service in SERVICE_PORTS
            if service != "console"
        }

    def _spawn(self, service: str, replica: int = 1) -> None:
        name = service if replica == 1 else f"{service}-{replica}"
        port = SERVICE_PORTS[service] + self.port_offset if replica == 1 else free_port()
        log_path = self.data_dir / "logs" / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        process = self._popen(service, port, log)
        self.running.append(ServiceProcess(name, service, port, process, log_path, log))

    def _popen(self, service: str, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", f"leadflow_{service}", "serve"],
            env=self.service_env(service, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops in order
            preexec_fn=_die_with_parent,
        )

    def respawn(self, svc: ServiceProcess) -> None:
        """Start ``svc`` again (same port, same log) after it exited."""
        svc.process = self._popen(svc.service, svc.port, svc.log)

    def restart_postgres(self) -> None:
        """Start the embedded PostgreSQL again on its port, on the same data."""
        assert self.postgres is not None
        self._start_embedded_postgres(self.postgres.port)

    def restart_broker(self) -> list[str]:
        """Start the embedded broker again on its port and create the registry's topics
        (its storage is in memory: everything is gone). Returns the topics created."""
        assert self.kafka is not None
        self.kafka.stop()  # the process is gone; this closes its log
        self._start_embedded_kafka(self.kafka.port)
        try:
            return asyncio.run(ensure_topics(self.bootstrap_servers, REGISTRY))
        except BaseException:
            self.kafka.stop()  # a broker without its topics must not serve: try again later
            raise

    @contextlib.contextmanager
    def frozen_services(self) -> Iterator[None]:
        """Every running service process stopped (SIGSTOP) inside the block."""
        frozen = [s.process for s in self.running if s.process.poll() is None]
        for process in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for process in frozen:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGCONT)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pending = {s.name: s for s in self.running}
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name, svc in list(pending.items()):
                    if svc.process.poll() is not None:
                        tail = svc.log_path.read_text(errors="replace")[-3000:]
                        raise RuntimeError(f"{name} exited with {svc.process.returncode}:\n{tail}")
                    try:
                        if client.get(f"{svc.url}/readyz").status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout_s}s: {sorted(pending)}")
                if pending:
                    time.sleep(0.2)

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        for svc in self.running:
            if svc.process.poll() is None:
                svc.process.send_signal(signal.SIGTERM)
        for svc in self.running:
            try:
                svc.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                svc.process.kill()
                svc.process.wait(timeout=5)
            svc.log.close()
        self.running.clear()
        if self.drop_databases and self.database_url:
            for name in self.services:
                drop_database(with_database(self.database_url, self.database_prefix + name))
        if self.postgres:
            self.postgres.stop()
            self.postgres = None
        if self.kafka:
            self.kafka.stop()
            self.kafka = None

    def pids(self) -> list[int]:
        pids = [s.process.pid for s in self.running]
        for infra in (self.kafka, self.postgres):
            if infra is not None and infra.pid is not None:
                pids.append(infra.pid)
        return pids
