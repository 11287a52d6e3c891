from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from leadflow_contracts import utcnow
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.__main__ import MIGRATIONS
from leadflow_ingest.settings import Settings
from servicekit.auth import mint_token
from servicekit.settings import DEV_JWT_SECRET
from servicekit.testing.helpers import prepare
from standardwebhooks import Webhook


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(
        **service_settings,
    )


@pytest.fixture
async def ready(settings: Settings) -> Settings:
    """Migrated database and the topics ingest touches (under the test's prefix)."""
    await prepare(settings, MIGRATIONS, [LEAD_RECEIVED, LEAD_CREATED, CONFIG_CHANGED])
    return settings


def token(role: str = "admin", tenants: list[str] | None = None) -> dict[str, str]:
    jwt = mint_token(DEV_JWT_SECRET, sub=f"test-{role}", role=role, tenants=tenants or ["*"])
    return {"Authorization": f"Bearer {jwt}"}


ADMIN = token()


def signed(
    secret: str,
    body: Any,
    *,
    webhook_id: str | None = None,
    at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body bytes and headers signed by the official ``standardwebhooks`` package."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    when = at or utcnow()
    signature = Webhook(secret).sign(msg_id, when, raw.decode())
    return raw, {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


@dataclass
class Tenant:
    slug: str
    source: str
    secret: str
    secret_id: str

    @property
    def url(self) -> str:
        return f"/v1/webhooks/{self.slug}/{self.source}"


def provision(
    client: TestClient,
    slug: str,
    *,
    source: str = "generic",
    rate_per_minute: int = 1000,
    monthly_quota: int = 100_000,
    region: str = "DE",
) -> Tenant:
    """Tier (named after the tenant) + tenant + source, through the admin API."""
    tier = {
        "name": f"tier-{slug}",
        "rate_per_minute": rate_per_minute,
        "monthly_quota": monthly_quota,
        "sla_minutes": 15,
        "features": {"ghl": True},
    }
    assert client.post("/v1/tiers", json=tier, headers=ADMIN).status_code == 201
    tenant = {"slug": slug, "name": slug.title(), "tier": tier["name"], "default_region": region}
    response = client.post("/v1/tenants", json=tenant, headers=ADMIN)
    assert response.status_code == 201, response.text
    response = client.post(f"/v1/tenants/{slug}/sources", json={"source": source}, headers=ADMIN)
    assert response.status_code == 201, response.text
    created = response.json()
    return Tenant(slug, source, created["secret"], created["secret_id"])


@pytest.fixture
def make_slug(unique: str) -> Callable[[str], str]:
    return lambda name: f"{name}-{unique}"


class Kit:
    """Helpers for tests (test modules are not importable from each other)."""

    admin = ADMIN
    token = staticmethod(token)
    signed = staticmethod(signed)
    provision = staticmethod(provision)


@pytest.fixture
def kit() -> Kit:
    return Kit()


class FakeClock:
    """An injectable clock (``create_app(settings, clock=...)``) tests move by hand."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
