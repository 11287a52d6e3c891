"""A service with nowhere to send spans records none, and its records and requests still
carry their traces: a webhook's trace reaches what it publishes, a consumed record's
trace reaches its outputs, and what starts without a trace starts a new one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from fastapi import APIRouter
from leadflow_contracts import Envelope, LeadCreated, LeadReceived
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from servicekit.events import Outgoing, new_envelope
from servicekit.http import create_http_app
from servicekit.kafka import ensure_topics
from servicekit.runtime import Runtime
from servicekit.settings import ServiceSettings
from servicekit.telemetry import create_tracer_provider, records_spans
from servicekit.testing.helpers import TopicReader
from sqlalchemy.ext.asyncio import AsyncSession

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
_PROPAGATOR = TraceContextTextMapPropagator()
SubscribeFixture = Callable[[Runtime, str, Any], None]


def test_the_sampler_follows_where_spans_can_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    assert create_tracer_provider("s", "0", None).sampler is ALWAYS_OFF
    assert not records_spans(create_tracer_provider("s", "0", None))
    exporting = create_tracer_provider(
        "s", "0", None, (SimpleSpanProcessor(InMemorySpanExporter()),)
    )
    assert exporting.sampler is ALWAYS_ON
    assert create_tracer_provider("s", "0", "http://127.0.0.1:4318").sampler is ALWAYS_ON
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.5")
    chosen = create_tracer_provider("s", "0", None).sampler
    assert chosen not in (ALWAYS_OFF, ALWAYS_ON)
    assert "0.5" in chosen.get_description()


@pytest.fixture
async def quiet(settings: ServiceSettings, tables: None) -> AsyncIterator[Runtime]:
    """A runtime built as a service builds it, with no OTLP endpoint."""
    assert settings.otlp_endpoint is None
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        [LEAD_RECEIVED, LEAD_CREATED],
        name_prefix=settings.topic_prefix,
    )
    rt = Runtime.build(settings)
    assert not records_spans(rt.tracer_provider)
    yield rt
    await rt.stop()


def _trace_of(record: ConsumerRecord[Any, Any]) -> str:
    headers = dict(record.headers)
    version, trace_id, span_id, _ = headers["traceparent"].decode().split("-")
    assert version == "00"
    assert int(span_id, 16) != 0
    return str(trace_id)


async def test_a_request_trace_reaches_what_it_publishes(
    quiet: Runtime,
    make_received: Callable[[str, str], Envelope[LeadReceived]],
    unique: str,
) -> None:
    router = APIRouter()

    @router.post("/publish/{name}")
    async def publish(name: str) -> dict[str, str]:
        for n in range(2):
            received = make_received(f"tenant-{unique}", f"wh-{unique}-{name}-{n}")
            await quiet.publisher.publish(Outgoing.of(LEAD_RECEIVED, received))
        return {"name": name}

    await quiet.start()
    app = create_http_app(quiet, title="probe", routers=[router])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://probe"
    ) as client:
        traced = await client.post(
            "/publish/traced", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}
        )
        untraced = await client.post("/publish/untraced")
    assert traced.status_code == untraced.status_code == 200

    topic = quiet.settings.topic_prefix + LEAD_RECEIVED.name
    async with TopicReader(quiet.settings.kafka_bootstrap_servers, topic) as reader:
        records = await reader.wait_for(lambda rs: len(rs) == 4)
    by_request: dict[str, set[str]] = {}
    for record in records:
        name = record.value.decode().split(f"wh-{unique}-")[1].split("-")[0]
        by_request.setdefault(name, set()).add(_trace_of(record))
    assert by_request["traced"] == {TRACE}
    (new_trace,) = by_request["untraced"]  # both records of the request: one new trace
    assert new_trace not in (TRACE, "0" * 32)


async def test_a_consumed_record_trace_reaches_its_outputs(
    quiet: Runtime,
    subscribe: SubscribeFixture,
    make_received: Callable[[str, str], Envelope[LeadReceived]],
    unique: str,
) -> None:
    async def per_record(session: AsyncSession, envelope: Envelope[Any]) -> list[Outgoing]:
        created = new_envelope(
            LEAD_CREATED,
            LeadCreated.model_validate({"lead": _lead_of(envelope)}),
            producer=envelope.producer,
            cause=envelope,
        )
        return [Outgoing.of(LEAD_CREATED, created)]

    subscribe(quiet, f"kit-{unique}", per_record)
    await quiet.start()
    inputs = [make_received(f"tenant-{unique}", f"wh-{unique}-{n}") for n in range(3)]
    traces = [f"{n + 1:032x}" for n in range(3)]
    for envelope, trace_id in zip(inputs, traces, strict=True):
        await quiet.raw_producer.send(
            quiet.settings.topic_prefix + LEAD_RECEIVED.name,
            envelope.model_dump_json().encode(),
            key=envelope.tenant_id.encode(),
            headers=[],
            parent=_PROPAGATOR.extract({"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}),
        )
    topic = quiet.settings.topic_prefix + LEAD_CREATED.name
    async with TopicReader(quiet.settings.kafka_bootstrap_servers, topic) as reader:
        outputs = await reader.wait_for(lambda rs: len(rs) == 3)
    expected = {str(e.event_id): t for e, t in zip(inputs, traces, strict=True)}
    got = {
        str(Envelope[Any].model_validate_json(r.value).causation_id): _trace_of(r) for r in outputs
    }
    assert got == expected


def _lead_of(envelope: Envelope[Any]) -> dict[str, Any]:
    received: LeadReceived = envelope.payload
    return {
        "lead_id": str(envelope.lead_id),
        "tenant_id": envelope.tenant_id,
        "source": received.source,
        "email": received.body["email"],
        "received_at": received.received_at.isoformat(),
    }
