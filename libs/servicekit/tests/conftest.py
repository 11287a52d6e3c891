from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from leadflow_contracts import Envelope, LeadReceived, Producer, lead_id_for, received_event_id
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from servicekit.batch import BatchConsumer
from servicekit.db import sqlalchemy_url
from servicekit.events import Outgoing, new_envelope
from servicekit.inbox import metadata as inbox_metadata
from servicekit.kafka import ensure_topics
from servicekit.outbox import metadata as outbox_metadata
from servicekit.redrive import metadata as redrive_metadata
from servicekit.runtime import Runtime
from servicekit.settings import ServiceSettings
from servicekit.telemetry import create_tracer_provider
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> ServiceSettings:
    return ServiceSettings(**service_settings, service_name="kit-test", retry_max_attempts=3)


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def tables(settings: ServiceSettings) -> None:
    """servicekit's own tables (inbox, outbox, broker epochs) in the test's database."""
    engine = create_async_engine(sqlalchemy_url(settings.database_url))
    async with engine.begin() as conn:
        for metadata in (inbox_metadata, outbox_metadata, redrive_metadata):
            await conn.run_sync(metadata.create_all)
    await engine.dispose()


@pytest.fixture
async def runtime(
    settings: ServiceSettings, spans: InMemorySpanExporter, tables: None
) -> AsyncIterator[Runtime]:
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        [LEAD_RECEIVED, LEAD_CREATED],
        name_prefix=settings.topic_prefix,
    )
    provider = create_tracer_provider("kit-test", "0", None, (SimpleSpanProcessor(spans),))
    rt = Runtime.build(settings, tracer_provider=provider)
    yield rt
    await rt.stop()


@pytest.fixture
def make_received() -> Callable[[str, str], Envelope[LeadReceived]]:
    def make(tenant: str, webhook_id: str) -> Envelope[LeadReceived]:
        lead_id = lead_id_for(tenant, "generic", webhook_id)
        return new_envelope(
            LEAD_RECEIVED,
            LeadReceived(
                source="generic",
                webhook_id=webhook_id,
                received_at=datetime.now(UTC),
                body={"email": f"{webhook_id}@example.com"},
            ),
            producer=Producer(service="kit-test", version="0"),
            event_id=received_event_id(lead_id),
            tenant_id=tenant,
            lead_id=lead_id,
            correlation_id=webhook_id,
        )

    return make


PerRecord = Callable[[AsyncSession, Envelope[Any]], Awaitable[list[Outgoing]]]


@dataclass(frozen=True)
class Result:
    outcome: str
    outputs: list[Outgoing] = field(default_factory=list)


@pytest.fixture
def subscribe() -> Callable[[Runtime, str, PerRecord], None]:
    """Registers a batch consumer of ``lead.received`` whose batch function calls
    ``per_record`` for each envelope the inbox has not seen (what a service's does)."""

    def register(runtime: Runtime, group: str, per_record: PerRecord) -> None:
        async def handle(
            session: AsyncSession, fresh: list[Envelope[Any]]
        ) -> Mapping[uuid.UUID, Result]:
            return {e.event_id: Result("ok", await per_record(session, e)) for e in fresh}

        BatchConsumer(runtime, LEAD_RECEIVED, group, handle).register(max_records=50, timeout_ms=50)

    return register
