"""OpenTelemetry: one tracer provider per service, OTLP export when configured.

Kafka spans come from FastStream's telemetry middleware (see ``kafka.create_broker``),
which injects ``traceparent`` into every published record and makes each consume span a
child of it, so one trace spans the whole journey.

With nowhere to send spans (no OTLP endpoint, no extra processor) a service records none:
its sampler is ``ALWAYS_OFF``, so every span is a non-recording one that still carries
its trace id and parent, and ``traceparent`` still travels with every record and request
(audit's timelines and the log lines keep their trace ids). Building and ending recording
spans that nobody exported was a tenth of the consumers' CPU under load
(``bench/README.md``). With an exporter every span is recorded (``ALWAYS_ON``, whatever
the parent's sampled flag says, so a service that exports keeps whole traces even behind
one that does not). ``OTEL_TRACES_SAMPLER``, when set, chooses instead.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler


def create_tracer_provider(
    service: str,
    version: str,
    otlp_endpoint: str | None,
    extra_processors: tuple[SpanProcessor, ...] = (),
) -> TracerProvider:
    sampler: Sampler | None = None  # the SDK reads OTEL_TRACES_SAMPLER
    if "OTEL_TRACES_SAMPLER" not in os.environ:
        sampler = ALWAYS_ON if otlp_endpoint or extra_processors else ALWAYS_OFF
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.version": version}),
        sampler=sampler,
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    for processor in extra_processors:
        provider.add_span_processor(processor)
    return provider


def records_spans(provider: TracerProvider) -> bool:
    """False when every span of ``provider`` is a non-recording one."""
    return provider.sampler is not ALWAYS_OFF


def unrecorded_span(parent: trace.SpanContext, ids: IdGenerator) -> trace.Span:
    """What stands for a span a service that records none would start: ``parent``'s
    context (a new trace's root when ``parent`` is invalid). What is published under it
    continues that trace; nothing is built or ended."""
    if parent.is_valid:
        return trace.NonRecordingSpan(parent)
    root = trace.SpanContext(ids.generate_trace_id(), ids.generate_span_id(), is_remote=False)
    return trace.NonRecordingSpan(root)
