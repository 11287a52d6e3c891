from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from leadflow_contracts import Lead, LeadCreated, Producer, utcnow
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_CREATED, LEAD_QUALIFIED, LEAD_SCORED
from leadflow_scoring.__main__ import MIGRATIONS
from leadflow_scoring.settings import Settings
from servicekit.auth import mint_token
from servicekit.events import Outgoing, new_envelope
from servicekit.settings import DEV_JWT_SECRET
from servicekit.testing.helpers import prepare


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(
        **service_settings,
    )


@pytest.fixture
async def ready(settings: Settings) -> Settings:
    """Migrated database and scoring's topics (and their .dlq) under the test's prefix."""
    await prepare(settings, MIGRATIONS, [LEAD_CREATED, LEAD_SCORED, LEAD_QUALIFIED, CONFIG_CHANGED])
    return settings


def auth(role: str, tenants: list[str]) -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, sub=f"test-{role}", role=role, tenants=tenants)
    return {"Authorization": f"Bearer {token}"}


def make_lead(tenant: str, **fields: Any) -> Lead:
    return Lead.model_validate(
        {"lead_id": uuid.uuid4(), "tenant_id": tenant, "source": "generic",
         "received_at": utcnow(), **fields}
    )  # fmt: skip


def lead_created(lead: Lead) -> Outgoing:
    """A ``sales.lead.created`` record as the ingest worker would publish it."""
    envelope = new_envelope(
        LEAD_CREATED,
        LeadCreated(lead=lead),
        producer=Producer(service="test", version="0"),
        event_id=uuid.uuid4(),
        tenant_id=lead.tenant_id,
        lead_id=lead.lead_id,
        correlation_id=f"msg_{lead.lead_id.hex}",
    )
    return Outgoing.of(LEAD_CREATED, envelope)


Send = Callable[[str, bytes, bytes | None, list[tuple[str, bytes]] | None], Awaitable[None]]


@pytest.fixture
async def send(settings: Settings) -> AsyncIterator[Send]:
    """Produce raw records (topic names as given: add the prefix yourself)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()

    async def _send(
        topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]] | None
    ) -> None:
        await producer.send_and_wait(topic, value, key=key, headers=headers or [])

    try:
        yield _send
    finally:
        await producer.stop()


class Kit:
    """Helpers for tests (test modules are not importable from each other)."""

    auth = staticmethod(auth)
    make_lead = staticmethod(make_lead)
    lead_created = staticmethod(lead_created)


@pytest.fixture
def kit() -> Kit:
    return Kit()
