from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import ConsumerRecord
from leadflow_contracts import REGISTRY, TopicSpec
from leadflow_dlq.__main__ import MIGRATIONS
from leadflow_dlq.app import create_app
from leadflow_dlq.settings import Settings
from opentelemetry import context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from servicekit.auth import mint_token
from servicekit.kafka import ensure_topics
from servicekit.migrations import upgrade
from servicekit.runtime import Runtime

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(
        **service_settings,
        bulk_replay_max=3,
    )


def envelope_bytes(spec: TopicSpec, tenant: str, **overrides: Any) -> bytes:
    """An envelope-shaped value whose payload is deliberately not valid (a poison)."""
    lead_id = uuid.uuid4()
    value = {
        "event_id": str(uuid.uuid4()),
        "event_type": spec.event_type,
        "schema_version": spec.schema_version,
        "occurred_at": datetime.now(UTC).isoformat(),
        "tenant_id": tenant,
        "lead_id": str(lead_id),
        "correlation_id": f"wh-{lead_id.hex[:8]}",
        "causation_id": None,
        "producer": {"service": "test", "version": "0"},
        "payload": {"unexpected": True},
    }
    value.update(overrides)
    return orjson.dumps(value)


def original_headers(spec: TopicSpec) -> list[tuple[str, bytes]]:
    """Headers as a FastStream/servicekit producer writes them."""
    return [
        ("traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode()),
        ("event-type", spec.event_type.encode()),
        ("schema-version", str(spec.schema_version).encode()),
        ("content-type", b""),
        ("correlation_id", uuid.uuid4().hex.encode()),
    ]


def failed_record(
    topic: str,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]],
) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value or b""),
        headers=headers,
    )


@dataclass
class Dlq:
    """A running dlq service: its runtime, an HTTP client, and a way to dead-letter."""

    settings: Settings
    runtime: Runtime
    http: httpx.AsyncClient
    trace_id = TRACE_ID
    envelope_bytes = staticmethod(envelope_bytes)
    original_headers = staticmethod(original_headers)
    failed_record = staticmethod(failed_record)

    def token(self, tenants: list[str], role: str = "operator", sub: str = "op") -> dict[str, str]:
        token = mint_token(self.settings.jwt_secret(), sub=sub, role=role, tenants=tenants)
        return {"Authorization": f"Bearer {token}"}

    def topic(self, spec: TopicSpec) -> str:
        return self.settings.topic_prefix + spec.name

    async def dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        exc: Exception,
        *,
        group: str = "some-consumer",
        attempts: int = 1,
    ) -> None:
        """What servicekit's consumer does when it gives up on ``record``: inside the
        consume span (a child of the record's trace), publish to ``<topic>.dlq``."""
        carrier = {k: v.decode() for k, v in record.headers if k == "traceparent"}
        token = context.attach(TraceContextTextMapPropagator().extract(carrier))
        try:
            await self.runtime.dead_letters.publish(
                record,
                exc,
                consumer_group=group,
                attempts=attempts,
                first_failed_at=datetime.now(UTC),
            )
        finally:
            context.detach(token)

    async def list(self, token: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/v1/dead-letters", params=params, headers=token)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture
async def dlq(settings: Settings) -> AsyncIterator[Dlq]:
    upgrade(settings.database_url, MIGRATIONS)
    await ensure_topics(
        settings.kafka_bootstrap_servers, REGISTRY, name_prefix=settings.topic_prefix
    )
    runtime = Runtime.build(settings)
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://dlq") as client,
    ):
        yield Dlq(settings, runtime, client)
