"""The five services as fuzz targets: their settings, app, seed data and callers.

Each service gets its own database and the run's topics; the seed makes the manager's
fixed path parameters real (a tenant with a source, a team and a rep), so generated
requests reach the database instead of stopping at a 404. Seeded names and emails are
planted values: they must never appear in the logs of the run.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from leadflow_contracts import REGISTRY
from servicekit.auth import mint_token
from servicekit.db import drop_database, ensure_database, with_database
from servicekit.kafka import ensure_topics
from servicekit.migrations import upgrade
from servicekit.settings import DEV_JWT_SECRET
from standardwebhooks import Webhook

from fuzz.engine import Caller, free_port, serving

SERVICES = ("ingest", "scoring", "router", "audit", "dlq")


@dataclass(frozen=True)
class Run:
    """What every target of one run shares."""

    postgres_url: str
    kafka: str
    prefix: str
    tenant: str
    planted_name: str
    planted_email: str

    @classmethod
    def new(cls, postgres_url: str, kafka: str) -> Run:
        tag = uuid.uuid4().hex[:10]
        return cls(
            postgres_url,
            kafka,
            f"fuzz{tag}.",
            f"fuzz-{tag}",
            f"Planted Name {tag}",
            f"planted.{tag}@corp.example",
        )

    def token(self, role: str, tenants: list[str]) -> str:
        return mint_token(DEV_JWT_SECRET, sub=f"fuzz-{role}", role=role, tenants=tenants)

    @property
    def planted(self) -> tuple[str, str]:
        return self.planted_name, self.planted_email


def database_url(run: Run, service: str) -> str:
    return with_database(run.postgres_url, f"leadflow_{run.prefix.rstrip('.')}_{service}")


def build_app(run: Run, service: str, port: int, **overrides: Any) -> FastAPI:
    package = f"leadflow_{service}"
    settings_cls: Any = importlib.import_module(f"{package}.settings").Settings
    migrations = importlib.import_module(f"{package}.__main__").MIGRATIONS
    url = database_url(run, service)
    ensure_database(url)
    upgrade(url, migrations)
    settings = settings_cls(
        kafka_bootstrap_servers=run.kafka,
        database_url=url,
        topic_prefix=run.prefix,
        dev_mode=True,
        http_port=port,
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=300,
        **overrides,
    )
    app: FastAPI = importlib.import_module(f"{package}.app").create_app(settings)
    return app


@dataclass
class Served:
    """The services of one run, up and seeded: base URLs and the callers of each."""

    run: Run
    urls: dict[str, str] = field(default_factory=dict)
    callers: dict[str, list[Caller]] = field(default_factory=dict)


@contextmanager
def serve_all(
    run: Run, services: tuple[str, ...] = SERVICES, **overrides: dict[str, Any]
) -> Iterator[Served]:
    """Start ``services`` (``overrides[service]``: extra settings), seed them, yield;
    afterwards stop them and drop their databases."""
    asyncio.run(ensure_topics(run.kafka, REGISTRY, name_prefix=run.prefix))
    served = Served(run)
    with ExitStack() as stack:
        for service in services:
            stack.callback(drop_database, database_url(run, service))
            port = free_port()
            app = build_app(run, service, port, **overrides.get(service, {}))
            served.urls[service] = stack.enter_context(serving(app, port))
            served.callers[service] = callers(run, service, served.urls[service])
        yield served


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 300:
        raise RuntimeError(f"seeding failed: {response.request.url} → {response.text[:300]}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def _seed_ingest(run: Run, http: httpx.Client) -> dict[str, str]:
    tier = f"tier-{run.tenant}"
    _ok(
        http.post(
            "/v1/tiers",
            json={
                "name": tier,
                "rate_per_minute": 100_000,
                "monthly_quota": 10**9,
                "sla_minutes": 15,
            },
        )
    )
    _ok(
        http.post(
            "/v1/tenants",
            json={
                "slug": run.tenant,
                "name": run.planted_name,
                "tier": tier,
                "default_region": "DE",
            },
        )
    )
    secret = _ok(http.post(f"/v1/tenants/{run.tenant}/sources", json={"source": "generic"}))
    body = orjson.dumps({"email": run.planted_email, "first_name": run.planted_name})
    webhook_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    _ok(
        http.post(
            f"/v1/webhooks/{run.tenant}/generic",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(secret["secret"]).sign(webhook_id, now, body.decode()),
            },
        )
    )
    return {"slug": run.tenant, "tenant": run.tenant, "source": "generic", "name": tier}


def _seed_router(run: Run, http: httpx.Client) -> dict[str, str]:
    base = f"/v1/tenants/{run.tenant}"
    _ok(http.post(f"{base}/teams", json={"team_id": "core", "name": run.planted_name}))
    rep = {"rep_id": "alice", "name": run.planted_name, "email": run.planted_email}
    _ok(http.post(f"{base}/reps", json=rep | {"team_ids": ["core"]}))
    return {"slug": run.tenant, "team_id": "core", "rep_id": "alice"}


def _seed_tenant_only(run: Run, http: httpx.Client) -> dict[str, str]:
    return {"slug": run.tenant, "tenant": run.tenant}


SEEDS: dict[str, Callable[[Run, httpx.Client], dict[str, str]]] = {
    "ingest": _seed_ingest,
    "scoring": _seed_tenant_only,
    "router": _seed_router,
    "audit": _seed_tenant_only,
    "dlq": _seed_tenant_only,
}


def callers(run: Run, service: str, base: str) -> list[Caller]:
    admin = run.token("admin", ["*"])
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=30
    ) as http:
        fixed = SEEDS[service](run, http)
    return [
        Caller("admin of every tenant", admin, {}),
        Caller("manager of one tenant", run.token("manager", [run.tenant]), fixed),
    ]
