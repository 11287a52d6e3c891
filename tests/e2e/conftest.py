"""The journey suite's world: the whole stack as separate processes, black-box access only.

Two modes:

* **Local (default)** — one session-scoped stack started with the same launcher as
  ``make run`` (``leadflow_local.stack.Stack``) on a free port offset, with an OTLP/HTTP
  trace receiver of our own (``SpanCollector``) as ``OTEL_EXPORTER_OTLP_ENDPOINT``.
  ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` are passed through when set, else the
  embedded broker and PostgreSQL are used.
* **Live** — ``LEADFLOW_E2E_BASE_URLS=ingest=http://…,scoring=…,router=…,audit=…,dlq=…``
  (or one ``LEADFLOW_E2E_<SERVICE>_URL`` each), ``LEADFLOW_E2E_JWT_SECRET`` and
  ``LEADFLOW_E2E_KAFKA`` (bootstrap servers) drive an already-running deployment.
  Optional: ``LEADFLOW_E2E_DATABASE_URL`` (server URL, for the journey that must break a
  rule set below the API), ``LEADFLOW_E2E_LOG_DIR`` (``<service>.log`` files of a
  deployment started with ``LEADFLOW_LOG_LEVEL=DEBUG``: the per-record lines journey 10
  looks for are debug-level, so they stay off the hot path at INFO),
  ``LEADFLOW_E2E_OTLP_PORT`` (start the span receiver there; point the deployment's
  exporter at it). What a live run cannot observe is skipped with the reason.

Every test provisions its own uniquely named tenant (``provision``) and creates nothing
else globally, so the suite passes any number of times against the same stack. Every
request shape of the services' public APIs is built in ``Api`` below — one place to adapt
when a service's API settles.
"""

from __future__ import annotations

import gzip
import os
import random
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from leadflow_contracts import lead_id_for
from leadflow_contracts.topics import REGISTRY
from leadflow_local.stack import SERVICE_PORTS, Stack
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families
from servicekit.auth import mint_token
from servicekit.db import with_database
from servicekit.testing.helpers import TopicReader, eventually
from standardwebhooks.webhooks import Webhook

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


# --------------------------------------------------------------------------- spans


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int  # OTLP SpanKind: 2 server, 3 client, 4 producer, 5 consumer
    service: str
    attributes: dict[str, Any]


def _any_value(value: Any) -> Any:
    which = value.WhichOneof("value")
    return getattr(value, which) if which else None


class SpanCollector:
    """A minimal OTLP/HTTP trace receiver (``POST /v1/traces``, protobuf, maybe gzip)."""

    def __init__(self, port: int = 0) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path.rstrip("/") != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector._add(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SpanCollector:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _add(self, request: ExportTraceServiceRequest) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _any_value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    spans.append(
                        Span(
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            name=s.name,
                            kind=int(s.kind),
                            service=str(resource.get("service.name", "")),
                            attributes={a.key: _any_value(a.value) for a in s.attributes},
                        )
                    )
        with self._lock:
            self.spans.extend(spans)

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


# --------------------------------------------------------------------------- deployment


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


def _ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range. Service ports stay below it, so the
    broker and PostgreSQL (which take any free port) or any client socket cannot grab a
    service's port between our check and the service's bind."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _free_offset() -> int:
    """A port offset whose five service ports are free (never collides with make run)."""
    for _ in range(100):
        offset = random.randrange(1_000, _ephemeral_start() - 8_010, 10)
        try:
            for port in (p + offset for p in SERVICE_PORTS.values()):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free port range for the e2e stack")


def _live_urls() -> dict[str, str]:
    urls: dict[str, str] = {}
    for item in os.environ.get("LEADFLOW_E2E_BASE_URLS", "").split(","):
        name, _, url = item.partition("=")
        if name.strip() and url.strip():
            urls[name.strip()] = url.strip().rstrip("/")
    for name in SERVICE_PORTS:
        if url := os.environ.get(f"LEADFLOW_E2E_{name.upper()}_URL"):
            urls[name] = url.rstrip("/")
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


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    urls = _live_urls()
    if urls:
        live = _live_deployment(urls)
        try:
            yield live
        finally:
            if live.spans:
                live.spans.close()
        return
    spans = SpanCollector().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_E2E_")}
    env.update(STACK_ENV)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = spans.endpoint
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("leadflow-stack"),
        port_offset=_free_offset(),
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


# --------------------------------------------------------------------------- signing


def signed_headers(
    secret: str | list[str],
    raw: bytes,
    *,
    webhook_id: str,
    at: datetime | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers made by the official package (several secrets → several
    space-separated signatures, as a sender does during rotation)."""
    when = at or datetime.now(UTC)
    secrets = [secret] if isinstance(secret, str) else secret
    signatures = [Webhook(s).sign(webhook_id, when, raw.decode()) for s in secrets]
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


# --------------------------------------------------------------------------- the API


class ApiError(AssertionError):
    pass


class Api:
    """Every request the journeys make, in one place (paths and bodies per issues 3-7)."""

    def __init__(self, deployment: Deployment, http: httpx.AsyncClient) -> None:
        self.deployment = deployment
        self.http = http

    def headers(self, role: str = "admin", tenants: list[str] | None = None) -> dict[str, str]:
        token = mint_token(
            self.deployment.jwt_secret,
            sub=f"e2e-{role}",
            role=role,
            tenants=tenants or ["*"],
            ttl_s=3600,
        )
        return {"authorization": f"Bearer {token}"}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        role: str = "admin",
        tenant: str | None = None,
        expect: int | tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = self.headers(role, [tenant] if tenant else None) | kwargs.pop("headers", {})
        url = self.deployment.urls[service] + path
        response = await self.http.request(method, url, headers=headers, **kwargs)
        wanted = (expect,) if isinstance(expect, int) else expect
        if wanted is not None and response.status_code not in wanted:
            raise ApiError(
                f"{service}: {method} {path} answered {response.status_code}, expected "
                f"{' or '.join(map(str, wanted))}: {response.text[:1500]}"
            )
        return response

    async def json(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("expect", (200, 201))
        return (await self.call(service, method, path, **kwargs)).json()

    # -- ingest (issue 3) ------------------------------------------------------------
    async def create_tier(self, name: str, *, sla_minutes: int, rate_per_minute: int) -> Any:
        body = {
            "name": name,
            "rate_per_minute": rate_per_minute,
            "monthly_quota": 10_000_000,
            "sla_minutes": sla_minutes,
            "features": {"e2e": True},
        }
        return await self.json("ingest", "POST", "/v1/tiers", json=body, expect=201)

    async def create_tenant(self, slug: str, tier: str, default_region: str = "DE") -> Any:
        body = {"slug": slug, "name": f"E2E {slug}", "tier": tier, "default_region": default_region}
        return await self.json("ingest", "POST", "/v1/tenants", json=body, expect=201)

    async def add_source(self, slug: str, source: str = "generic") -> Any:
        return await self.json(
            "ingest",
            "POST",
            f"/v1/tenants/{slug}/sources",
            json={"source": source},
            role="manager",
            tenant=slug,
            expect=201,
        )

    async def rotate_secret(self, slug: str, source: str, grace_seconds: int) -> Any:
        return await self.json(
            "ingest",
            "POST",
            f"/v1/tenants/{slug}/sources/{source}/secrets:rotate",
            json={"grace_seconds": grace_seconds},
            role="manager",
            tenant=slug,
            expect=201,
        )

    async def list_secrets(self, slug: str, source: str) -> list[dict[str, Any]]:
        path = f"/v1/tenants/{slug}/sources/{source}/secrets"
        result: list[dict[str, Any]] = await self.json(
            "ingest", "GET", path, role="manager", tenant=slug
        )
        return result

    async def revoke_secret(self, slug: str, source: str, secret_id: str) -> None:
        path = f"/v1/tenants/{slug}/sources/{source}/secrets/{secret_id}"
        await self.call("ingest", "DELETE", path, role="manager", tenant=slug, expect=204)

    async def ingest_lead(self, slug: str, lead_id: uuid.UUID) -> httpx.Response:
        return await self.call("ingest", "GET", f"/v1/leads/{lead_id}", role="viewer", tenant=slug)

    async def post_webhook(
        self, slug: str, source: str, raw: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        url = f"{self.deployment.urls['ingest']}/v1/webhooks/{slug}/{source}"
        return await self.http.post(url, content=raw, headers=headers)

    # -- scoring (issue 4) -----------------------------------------------------------
    async def put_scoring(
        self,
        slug: str,
        rules: list[dict[str, Any]],
        *,
        threshold: int,
        weights: dict[str, int] | None = None,
    ) -> Any:
        """A new rule-set version (201); returns the stored version (``version`` …)."""
        body = {
            "rules": rules,
            "weights": weights or {"fit": 50, "engagement": 50},
            "threshold": threshold,
        }
        return await self.json(
            "scoring",
            "PUT",
            f"/v1/tenants/{slug}/scoring",
            json=body,
            role="manager",
            tenant=slug,
            expect=201,
        )

    async def qualify_everything(self, slug: str) -> int:
        """A rule set under which every lead with an email qualifies (routing journeys)."""
        rules = [
            {
                "id": "has-email",
                "description": "Gave an email address",
                "category": "fit",
                "points": 100,
                "condition": {"kind": "present", "field": "email"},
            },
            {
                "id": "any-source",
                "description": "Came in through a webhook",
                "category": "engagement",
                "points": 100,
                "condition": {"kind": "present", "field": "source"},
            },
        ]
        stored = await self.put_scoring(slug, rules, threshold=50)
        version: int = stored["version"]
        return version

    async def preview_score(self, slug: str, lead: dict[str, Any]) -> Any:
        return await self.json(
            "scoring",
            "POST",
            f"/v1/tenants/{slug}/score:preview",
            json=lead,
            role="viewer",
            tenant=slug,
            expect=200,
        )

    async def get_scoring(self, slug: str) -> Any:
        return await self.json(
            "scoring", "GET", f"/v1/tenants/{slug}/scoring", role="manager", tenant=slug
        )

    # -- router (issue 5) ------------------------------------------------------------
    async def create_team(
        self, slug: str, team_id: str, *, strategy: str, required_skills: list[str] | None = None
    ) -> str:
        body = {
            "team_id": team_id,
            "name": team_id.capitalize(),
            "strategy": strategy,
            "required_skills": required_skills or [],
        }
        path = f"/v1/tenants/{slug}/teams"
        team = await self.json(
            "router", "POST", path, json=body, role="manager", tenant=slug, expect=201
        )
        return str(team["team_id"])

    async def create_rep(self, slug: str, name: str, team_id: str, **fields: Any) -> str:
        """A rep (available, capacity 100, weight 1, no schedule unless given); rep ids
        are global, so they carry the tenant's slug."""
        body = {
            "rep_id": f"{slug}-{name}",
            "name": name.capitalize(),
            "email": f"{name}@{slug}.example.com",
            "team_ids": [team_id],
            "skills": [],
            "capacity": 100,
            "weight": 1,
            "time_zone": "UTC",
            "working_hours": None,
            "presence": "available",
            "active": True,
        } | fields
        path = f"/v1/tenants/{slug}/reps"
        rep = await self.json(
            "router", "POST", path, json=body, role="manager", tenant=slug, expect=201
        )
        return str(rep["rep_id"])

    async def set_presence(self, slug: str, rep_id: str, presence: str) -> Any:
        """The rep (an operator token of the tenant) changes their own presence."""
        return await self.json(
            "router",
            "PUT",
            f"/v1/tenants/{slug}/reps/{rep_id}/presence",
            json={"presence": presence},
            role="operator",
            tenant=slug,
        )

    async def put_routing_rules(
        self, slug: str, *, default_team: str, rules: list[dict[str, Any]] | None = None
    ) -> Any:
        body = {"rules": rules or [], "default_team": default_team}
        return await self.json(
            "router",
            "PUT",
            f"/v1/tenants/{slug}/routing-rules",
            json=body,
            role="manager",
            tenant=slug,
        )

    async def work_queue(self, slug: str, status: str = "open") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = await self.json(
            "router",
            "GET",
            f"/v1/tenants/{slug}/work-queue",
            params={"status": status},
            role="manager",
            tenant=slug,
        )
        return items

    async def claim_work_item(self, slug: str, item_id: str) -> Any:
        path = f"/v1/work-queue/{item_id}:claim"
        return await self.json("router", "POST", path, role="manager", tenant=slug)

    async def assign_work_item(self, slug: str, item_id: str, rep_id: str) -> Any:
        path = f"/v1/work-queue/{item_id}:assign"
        return await self.json(
            "router", "POST", path, json={"rep_id": rep_id}, role="manager", tenant=slug
        )

    async def ack_assignment(self, slug: str, assignment_id: str) -> Any:
        """The rep (an operator token of the tenant) acknowledges an assignment."""
        path = f"/v1/assignments/{assignment_id}/ack"
        return await self.json("router", "POST", path, role="operator", tenant=slug)

    async def assignments(self, slug: str, **query: Any) -> list[dict[str, Any]]:
        path = f"/v1/tenants/{slug}/assignments"
        rows: list[dict[str, Any]] = await self.json(
            "router", "GET", path, params=query, role="viewer", tenant=slug
        )
        return rows

    # -- audit (issue 6) -------------------------------------------------------------
    async def timeline(self, slug: str, lead_id: uuid.UUID) -> httpx.Response:
        return await self.call(
            "audit", "GET", f"/v1/leads/{lead_id}/timeline", role="viewer", tenant=slug
        )

    async def audit_events(self, slug: str, **query: Any) -> Any:
        return await self.json(
            "audit", "GET", "/v1/events", params=query, role="viewer", tenant=slug
        )

    async def verify_chain(self) -> Any:
        return await self.json("audit", "GET", "/v1/audit:verify", role="viewer")

    # -- dlq (issue 7) ---------------------------------------------------------------
    async def dead_letters(self, slug: str, **query: Any) -> list[dict[str, Any]]:
        body = await self.json(
            "dlq", "GET", "/v1/dead-letters", params=query, role="operator", tenant=slug
        )
        items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
        return items

    async def dead_letter(self, slug: str, dead_letter_id: str) -> Any:
        return await self.json(
            "dlq", "GET", f"/v1/dead-letters/{dead_letter_id}", role="operator", tenant=slug
        )

    async def replay_dead_letter(self, slug: str, dead_letter_id: str) -> Any:
        return await self.json(
            "dlq",
            "POST",
            f"/v1/dead-letters/{dead_letter_id}:replay",
            role="operator",
            tenant=slug,
        )

    # -- every service ---------------------------------------------------------------
    async def metrics(self, service: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """``/metrics`` as {(sample name, sorted labels): value}."""
        text = (await self.call(service, "GET", "/metrics", expect=200)).text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture(scope="session")
async def api(deployment: Deployment) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(timeout=30.0) as http:
        yield Api(deployment, http)


# --------------------------------------------------------------------------- tenants


@dataclass
class Tenant:
    """A tenant provisioned for one test, with its ``generic`` source and first secret."""

    api: Api
    slug: str
    tier: str
    sla_minutes: int
    source: str
    secret: str
    secret_id: str
    domain: str = field(init=False)

    def __post_init__(self) -> None:
        self.domain = f"{self.slug}.example.com"

    def lead_id(self, webhook_id: str) -> uuid.UUID:
        return lead_id_for(self.slug, self.source, webhook_id)

    async def send(
        self,
        body: dict[str, Any] | bytes,
        *,
        webhook_id: str | None = None,
        secret: str | list[str] | None = None,
        at: datetime | None = None,
        slug: str | None = None,
        signed_body: bytes | None = None,
        expect: int | None = 202,
    ) -> httpx.Response:
        """POST a webhook signed by the official package (defaults: this tenant's URL and
        current secret, a fresh webhook-id, now; ``signed_body`` signs other bytes than
        those sent, as a tampering proxy would)."""
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = signed_headers(
            self.secret if secret is None else secret,
            raw if signed_body is None else signed_body,
            webhook_id=webhook_id or new_webhook_id(),
            at=at,
        )
        response = await self.api.post_webhook(slug or self.slug, self.source, raw, headers)
        if expect is not None and response.status_code != expect:
            raise ApiError(
                f"webhook answered {response.status_code}, expected {expect}: {response.text}"
            )
        return response

    async def send_lead(self, body: dict[str, Any]) -> tuple[uuid.UUID, str]:
        """Send one accepted lead; returns its lead_id and webhook-id (= correlation id)."""
        webhook_id = new_webhook_id()
        answer = (await self.send(body, webhook_id=webhook_id)).json()
        lead_id = self.lead_id(webhook_id)
        assert answer["lead_id"] == str(lead_id), answer
        return lead_id, webhook_id

    def lead(self, name: str = "lead", **fields: Any) -> dict[str, Any]:
        """A strong generic lead with a unique corporate email of this tenant's domain."""
        return {
            "first_name": "Ada",
            "last_name": name.capitalize(),
            "email": f"{name}.{uuid.uuid4().hex[:8]}@{self.domain}",
            "company": f"{self.slug} GmbH",
            "title": "VP of Sales",
            "company_size": 500,
            "industry": "Software",
            "country": "DE",
            "language": "de",
            "tags": ["demo-request"],
        } | fields


class Provision:
    """Creates uniquely named tenants: a tier of their own, the tenant, source ``generic``."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def __call__(
        self, *, sla_minutes: int = 30, rate_per_minute: int = 10_000, region: str = "DE"
    ) -> Tenant:
        slug = f"e2e-{uuid.uuid4().hex[:10]}"
        tier = f"e2e-{slug[4:]}"
        await self.api.create_tier(tier, sla_minutes=sla_minutes, rate_per_minute=rate_per_minute)
        await self.api.create_tenant(slug, tier, region)
        created = await self.api.add_source(slug, "generic")
        return Tenant(
            api=self.api,
            slug=slug,
            tier=tier,
            sla_minutes=sla_minutes,
            source="generic",
            secret=created["secret"],
            secret_id=str(created["secret_id"]),
        )


@pytest.fixture
def provision(api: Api) -> Provision:
    return Provision(api)


# --------------------------------------------------------------------------- the bus


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: dict[str, Any] | None  # the envelope; None if the value is not JSON

    @property
    def payload(self) -> dict[str, Any]:
        assert self.value is not None
        payload: dict[str, Any] = self.value["payload"]
        return payload


class Bus:
    """Every domain topic (and its ``.dlq``) read from the beginning, filtered on demand."""

    def __init__(self, reader: TopicReader) -> None:
        self._reader = reader
        self._parsed: list[Message] = []

    async def _poll(self) -> list[Message]:
        records = await self._reader.poll()
        for record in records[len(self._parsed) :]:
            try:
                value = orjson.loads(record.value) if record.value else None
            except orjson.JSONDecodeError:
                value = None
            self._parsed.append(
                Message(
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key.decode() if record.key else None,
                    headers={k: v.decode(errors="replace") for k, v in record.headers or ()},
                    value=value if isinstance(value, dict) else None,
                )
            )
        return self._parsed

    def select(
        self, topic: str, *, lead_id: uuid.UUID | None = None, tenant: str | None = None
    ) -> list[Message]:
        return [
            m
            for m in self._parsed
            if m.topic == topic
            and m.value is not None
            and (lead_id is None or m.value.get("lead_id") == str(lead_id))
            and (tenant is None or m.value.get("tenant_id") == tenant)
        ]

    async def wait(
        self,
        topic: str,
        *,
        lead_id: uuid.UUID | None = None,
        tenant: str | None = None,
        count: int = 1,
        distinct: bool = True,
        timeout_s: float = PIPELINE_TIMEOUT_S,
    ) -> list[Message]:
        """At least ``count`` records of ``topic`` for that lead/tenant — counting distinct
        event ids, or every record (redeliveries and replays too) with ``distinct=False``."""

        async def probe() -> list[Message] | None:
            await self._poll()
            found = self.select(topic, lead_id=lead_id, tenant=tenant)
            seen = len({m.value["event_id"] for m in found if m.value}) if distinct else len(found)
            return found if seen >= count else None

        what = f"{count} x {topic} (lead {lead_id}, tenant {tenant})"
        found: list[Message] = await eventually(probe, timeout_s=timeout_s, what=what)
        return found

    async def settle(self, quiet_s: float = 1.5) -> None:
        """Read until nothing new arrived for ``quiet_s`` (to prove something did NOT come)."""
        await self._reader.drain(quiet_s)
        await self._poll()


@pytest.fixture
async def bus(deployment: Deployment) -> AsyncIterator[Bus]:
    topics = [spec.name for spec in REGISTRY] + [spec.dlq for spec in REGISTRY]
    async with TopicReader(deployment.bootstrap_servers, *topics) as reader:
        yield Bus(reader)


# --------------------------------------------------------------------------- audit


async def wait_timeline(
    api: Api, slug: str, lead_id: uuid.UUID, *types: str, timeout_s: float = PIPELINE_TIMEOUT_S
) -> dict[str, Any]:
    """The lead's audit timeline once it holds at least the given event types."""

    async def probe() -> dict[str, Any] | None:
        response = await api.timeline(slug, lead_id)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        seen = [e["event_type"] for e in body["events"]]
        return body if all(seen.count(t) >= types.count(t) for t in types) else None

    body: dict[str, Any] = await eventually(
        probe, timeout_s=timeout_s, what=f"audit timeline of {lead_id} with {types}"
    )
    return body


@pytest.fixture
def timeline(api: Api) -> Any:
    async def get(
        slug: str, lead_id: uuid.UUID, *types: str, timeout_s: float = PIPELINE_TIMEOUT_S
    ) -> dict[str, Any]:
        return await wait_timeline(api, slug, lead_id, *types, timeout_s=timeout_s)

    return get


# --------------------------------------------------------------------------- poison

UNKNOWN_KIND_RULE = {
    "id": "intent-model",
    "description": "Buying intent from the ML model (needs a newer release)",
    "category": "engagement",
    "points": 30,
    "condition": {"kind": "intent_model", "model": "v7", "min": 0.8},
}


async def store_unloadable_rule_set(url: str, slug: str) -> int:
    """What a newer release (or a hand edit) leaves behind: a stored version this
    release cannot validate (in scoring's database at ``url``). The API refuses to create
    one, so it is written in SQL."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (
            await conn.execute(
                "SELECT version, rules, weights, threshold FROM rule_set_versions "
                "WHERE tenant = %s ORDER BY version DESC LIMIT 1",
                (slug,),
            )
        ).fetchone()
        assert row is not None, "the tenant's rule set should be stored by now"
        version, rules, weights, threshold = row
        await conn.execute(
            "INSERT INTO rule_set_versions "
            "(tenant, version, rules, weights, threshold, created_by) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                slug,
                version + 1,
                orjson.dumps([*rules, UNKNOWN_KIND_RULE]).decode(),
                orjson.dumps(weights).decode(),
                threshold,
                "release-2.0-migration",
            ),
        )
    return int(version) + 1


@pytest.fixture
def unloadable_rule_set(deployment: Deployment) -> Any:
    """``await unloadable_rule_set(slug)`` stores a scoring version this release cannot
    load (needs the database: skipped in live mode without LEADFLOW_E2E_DATABASE_URL)."""
    if deployment.database_url is None:
        pytest.skip(
            "live mode without LEADFLOW_E2E_DATABASE_URL: the unloadable rule set can only be "
            "written below the API (scoring validates every PUT)"
        )
    url = deployment.service_database_url("scoring")
    assert url is not None

    async def store(slug: str) -> int:
        return await store_unloadable_rule_set(url, slug)

    return store
