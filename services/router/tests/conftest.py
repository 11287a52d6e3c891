from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from leadflow_contracts import Envelope, LeadQualified, LeadScored, Producer, utcnow
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import (
    CONFIG_CHANGED,
    LEAD_ASSIGNED,
    LEAD_QUALIFIED,
    LEAD_REASSIGNED,
    LEAD_ROUTING_FAILED,
    LEAD_SLA_BREACHED,
)
from leadflow_router.__main__ import MIGRATIONS
from leadflow_router.settings import Settings
from servicekit.auth import mint_token
from servicekit.events import Outgoing, new_envelope
from servicekit.settings import DEV_JWT_SECRET
from servicekit.testing.helpers import prepare

TOPICS = [
    LEAD_QUALIFIED,
    LEAD_ASSIGNED,
    LEAD_ROUTING_FAILED,
    LEAD_SLA_BREACHED,
    LEAD_REASSIGNED,
    CONFIG_CHANGED,
]


@pytest.fixture
def settings(service_settings: dict[str, Any], unique: str) -> Settings:
    return Settings(
        **service_settings,
        consumer_group=f"router-{unique}",  # groups are broker-wide; topics are prefixed
        sla_check_interval_s=0.1,
        work_queue_poll_interval_s=0.1,
    )


@pytest.fixture
async def ready(settings: Settings) -> Settings:
    """Migrated database and the router's topics (under the test's prefix)."""
    await prepare(settings, MIGRATIONS, TOPICS)
    return settings


def auth(role: str = "manager", tenants: list[str] | None = None) -> dict[str, str]:
    jwt = mint_token(DEV_JWT_SECRET, sub=f"test-{role}", role=role, tenants=tenants or ["*"])
    return {"Authorization": f"Bearer {jwt}"}


def make_lead(tenant: str, **fields: Any) -> Lead:
    return Lead(
        **{
            "lead_id": uuid.uuid4(),
            "tenant_id": tenant,
            "source": "generic",
            "received_at": utcnow(),
        }
        | fields
    )


def qualified(lead: Lead, score: int = 80) -> Envelope[Any]:
    scored = LeadScored(
        score=score,
        fit=score,
        engagement=score,
        threshold=50,
        qualified=True,
        reasons=[],
        rules_version=1,
    )
    return new_envelope(
        LEAD_QUALIFIED,
        LeadQualified(lead=lead, score=scored),
        producer=Producer(service="test", version="0"),
        event_id=uuid.uuid4(),
        tenant_id=lead.tenant_id,
        lead_id=lead.lead_id,
        correlation_id=f"msg_{lead.lead_id.hex}",
    )


async def publish(settings: Settings, *envelopes: Envelope[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for envelope in envelopes:
            record = Outgoing.of(LEAD_QUALIFIED, envelope)
            await producer.send_and_wait(
                settings.topic_prefix + record.topic, record.value_bytes(), key=record.key.encode()
            )
    finally:
        await producer.stop()


class FakeClock:
    """An injectable clock (``create_app(settings, clock=...)``) tests move by hand."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def provision(
    client: Any,
    slug: str,
    reps: dict[str, dict[str, Any]],
    *,
    team: str = "sales",
    strategy: str = "least_loaded",
) -> None:
    """One team (the default team of the tenant's rules) and its reps, via the API."""
    h = auth(tenants=[slug])
    body = {"team_id": team, "name": team.title(), "strategy": strategy}
    response = client.post(f"/v1/tenants/{slug}/teams", json=body, headers=h)
    assert response.status_code == 201, response.text
    for rep_id, fields in reps.items():
        body = {"rep_id": rep_id, "name": rep_id.title(), "team_ids": [team]} | fields
        response = client.post(f"/v1/tenants/{slug}/reps", json=body, headers=h)
        assert response.status_code == 201, response.text
    rules = {"rules": [], "default_team": team}
    response = client.put(f"/v1/tenants/{slug}/routing-rules", json=rules, headers=h)
    assert response.status_code == 200, response.text


class Kit:
    """Helpers for tests (test modules are not importable from each other)."""

    auth = staticmethod(auth)
    lead = staticmethod(make_lead)
    qualified = staticmethod(qualified)
    publish = staticmethod(publish)
    provision = staticmethod(provision)
    manager = auth()


@pytest.fixture
def kit() -> Kit:
    return Kit()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_slug(unique: str) -> Callable[[str], str]:
    return lambda name: f"{name}-{unique}"
