"""OpenTelemetry: one tracer provider per service, OTLP export when configured.

Kafka spans come from FastStream's telemetry middleware (see ``kafka.create_broker``),
which injects ``traceparent`` into every published record and makes each consume span a
child of it, so one trace spans the whole journey.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def create_tracer_provider(
    service: str,
    version: str,
    otlp_endpoint: str | None,
    extra_processors: tuple[SpanProcessor, ...] = (),
) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.version": version})
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
