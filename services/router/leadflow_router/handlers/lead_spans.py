"""One consume span per lead of a batch, in the lead's own trace.

FastStream's telemetry middleware gives a batch subscriber a single span, a new trace
root merely linked to the records. The journey of a lead must stay one trace (webhook →
``lead.assigned``), so the batch consumer opens, for every record, a
``<topic> process`` consumer span whose parent is the record's ``traceparent`` (linked to
the batch's span), and publishes that lead's events with it current: the middleware then
writes the lead's trace into the outgoing ``traceparent``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def start_lead_span(tracer: Tracer, record: ConsumerRecord[Any, Any], group: str) -> Span:
    """Started, not current; end it with ``end_lead_span`` once the lead is published."""
    carrier = {k: v.decode("latin-1") for k, v in record.headers or ()}
    batch = trace.get_current_span().get_span_context()
    return tracer.start_span(
        f"{record.topic} process",
        context=_PROPAGATOR.extract(carrier),
        kind=SpanKind.CONSUMER,
        links=[Link(batch)] if batch.is_valid else None,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation": "process",
            "messaging.destination.name": record.topic,
            "messaging.kafka.consumer.group": group,
            "messaging.kafka.destination.partition": record.partition,
            "messaging.kafka.message.offset": record.offset,
        },
    )


@contextmanager
def current(span: Span) -> Iterator[None]:
    with trace.use_span(span, end_on_exit=False, record_exception=False):
        yield


def end_lead_span(span: Span, outcome: str, error: BaseException | None = None) -> None:
    span.set_attribute("leadflow.outcome", outcome)
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:200]))
    span.end()
