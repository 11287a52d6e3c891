"""The deployment under test: the local stack the suite starts, or a live one."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from leadflow_local.stack import SERVICE_PORTS, Stack, free_port_offset
from servicekit.db import with_database

from tests.e2e.support.spans import SpanCollector

#: The five pipeline services every journey needs; the console (a client of theirs) is
#: optional in live mode (``LEADFLOW_E2E_CONSOLE_URL``), always there in local mode.
SERVICES = tuple(s for s in SERVICE_PORTS if s != "console")
#: Settings of the stack under test: fast group joins, quick span export, a short retry
#: budget (the poison journey waits for it), frequent SLA checks.
STACK_ENV = {
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "LEADFLOW_KAFKA_SESSION_TIMEOUT_MS": "6000",
    "LEADFLOW_KAFKA_HEARTBEAT_INTERVAL_MS": "600",
    "LEADFLOW_RETRY_MAX_ATTEMPTS": "4",
    "LEADFLOW_RETRY_BASE_DELAY_S": "0.1",
    "LEADFLOW_RETRY_MAX_DELAY_S": "0.5",
    "LEADFLOW_CONFIG_CACHE_TTL_S": "1",
    "LEADFLOW_METRICS_TENANT_LABELS": "true",  # journey 10 counts one tenant's webhooks
    "LEADFLOW_LOG_LEVEL": "DEBUG",
    "LEADFLOW_SLA_CHECK_INTERVAL_S": "1",
    "LEADFLOW_WORK_QUEUE_POLL_INTERVAL_S": "0.5",
}
#: How long a journey waits for the pipeline (the first lead also waits for group joins).
PIPELINE_TIMEOUT_S = 60.0


@dataclass
class Deployment:
    urls: dict[str, str]
    jwt_secret: str
    bootstrap_servers: str
    #: A PostgreSQL server URL where each service's database ``<prefix><name>`` lives.
    database_url: str | None
    log_dir: Path | None
    spans: SpanCollector | None
    live: bool
    database_prefix: str = "leadflow_"

    def service_database_url(self, service: str) -> str | None:
        if self.database_url is None:
            return None
        return with_database(self.database_url, self.database_prefix + service)

    def log_path(self, service: str) -> Path | None:
        return self.log_dir / f"{service}.log" if self.log_dir else None


def live_urls() -> dict[str, str]:
    urls: dict[str, str] = {}
    for item in os.environ.get("LEADFLOW_E2E_BASE_URLS", "").split(","):
        name, _, url = item.partition("=")
        if name.strip() and url.strip():
            urls[name.strip()] = url.strip().rstrip("/")
    for name in SERVICE_PORTS:
        if one := os.environ.get(f"LEADFLOW_E2E_{name.upper()}_URL"):
            urls[name] = one.rstrip("/")
    return urls


def _live_deployment(urls: dict[str, str]) -> Deployment:
    missing = [s for s in SERVICES if s not in urls]
    secret = os.environ.get("LEADFLOW_E2E_JWT_SECRET")
    kafka = os.environ.get("LEADFLOW_E2E_KAFKA")
    if missing or not secret or not kafka:
        raise pytest.UsageError(
            "live e2e mode needs a URL for every service (missing: "
            f"{', '.join(missing) or '-'}), LEADFLOW_E2E_JWT_SECRET and LEADFLOW_E2E_KAFKA"
        )
    port = os.environ.get("LEADFLOW_E2E_OTLP_PORT")
    log_dir = os.environ.get("LEADFLOW_E2E_LOG_DIR")
    return Deployment(
        urls=urls,
        jwt_secret=secret,
        bootstrap_servers=kafka,
        database_url=os.environ.get("LEADFLOW_E2E_DATABASE_URL"),
        log_dir=Path(log_dir) if log_dir else None,
        spans=SpanCollector(int(port)).start() if port else None,
        live=True,
    )


@contextlib.contextmanager
def local_deployment(data_dir: Path) -> Iterator[Deployment]:
    """The whole stack started as ``make run`` does, on a free port offset, in databases
    of its own (dropped after), exporting spans to a receiver of ours."""
    spans = SpanCollector().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_E2E_")}
    env.update(STACK_ENV)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = spans.endpoint
    stack = Stack(
        data_dir=data_dir,
        port_offset=free_port_offset(),
        env=env,
        database_prefix=f"leadflow_e2e_{uuid.uuid4().hex[:8]}_",
        drop_databases=True,
    )
    try:
        stack.start(timeout_s=180)
        yield Deployment(
            urls={name: stack.url(name) for name in stack.services},
            jwt_secret=stack.jwt_secret,
            bootstrap_servers=stack.bootstrap_servers,
            database_url=stack.database_url,
            database_prefix=stack.database_prefix,
            log_dir=stack.data_dir / "logs",
            spans=spans,
            live=False,
        )
    finally:
        stack.stop()
        spans.close()


@contextlib.contextmanager
def live_deployment(urls: dict[str, str]) -> Iterator[Deployment]:
    """An already-running deployment named by ``LEADFLOW_E2E_*`` variables."""
    live = _live_deployment(urls)
    try:
        yield live
    finally:
        if live.spans:
            live.spans.close()
