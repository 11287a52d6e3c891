"""Trace context travels in Kafka headers: the publish span is the consumer span's parent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadflow_contracts import Envelope, LeadReceived
from leadflow_contracts.topics import LEAD_RECEIVED
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from servicekit.batch import BatchConsumer
from servicekit.events import Outgoing
from servicekit.runtime import Runtime
from servicekit.testing.helpers import TopicReader, eventually


async def test_consumer_span_is_child_of_the_published_record_context(
    runtime: Runtime,
    spans: InMemorySpanExporter,
    make_received: Callable[[str, str], Envelope[LeadReceived]],
    unique: str,
) -> None:
    inside_handler: list[trace.SpanContext] = []

    async def handle(session: Any, envelopes: list[Envelope[Any]]) -> dict[Any, Any]:
        inside_handler.append(trace.get_current_span().get_span_context())
        return {}

    BatchConsumer(runtime, LEAD_RECEIVED, f"kit-{unique}", handle).register(
        max_records=10, timeout_ms=50
    )
    await runtime.start()
    tracer = runtime.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("webhook request") as root:
        await runtime.publisher.publish(
            Outgoing.of(LEAD_RECEIVED, make_received(f"tenant-{unique}", f"wh-{unique}"))
        )
    root_ctx = root.get_span_context()

    async def handled() -> bool:
        return bool(inside_handler)

    await eventually(handled, what="the handler to run")
    topic = runtime.settings.topic_prefix + LEAD_RECEIVED.name
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as reader:
        (record,) = await reader.wait_for(lambda rs: len(rs) == 1)
    traceparent = dict(record.headers)["traceparent"].decode()
    _, trace_id_hex, parent_span_hex, _ = traceparent.split("-")

    # The record carries the trace of the request, and names the publish span.
    assert int(trace_id_hex, 16) == root_ctx.trace_id
    publish_span = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.PRODUCER)
    assert publish_span.context.span_id == int(parent_span_hex, 16)

    async def consume_span_finished() -> list[Any]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.kind == SpanKind.CONSUMER and s.context.trace_id == root_ctx.trace_id
        ]

    # The record's own consumer span, a child of the publish span (FastStream's batch
    # span is the root of a trace of its own, linked to the records).
    (consume_span,) = await eventually(consume_span_finished, what="the consume span")
    assert consume_span.name == f"{topic} process"
    assert consume_span.parent is not None
    assert consume_span.parent.span_id == int(parent_span_hex, 16)
