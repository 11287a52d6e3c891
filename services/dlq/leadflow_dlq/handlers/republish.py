"""Publishing a dead letter back to its original topic, inside the original trace."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from leadflow_contracts import headers as h
from opentelemetry import context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from leadflow_dlq.domain.records import Header

_PROPAGATOR = TraceContextTextMapPropagator()


async def republish(
    broker: KafkaBroker,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header],
) -> None:
    """Publish and wait for the broker's acknowledgement (acks=all).

    Headers are sent as given, except ``traceparent``: the telemetry middleware writes
    the publish span there. The span is started as a child of the original
    ``traceparent``, so the replay shows up in the lead's own trace (same trace id).
    Header values are text on this path (FastStream's API); servicekit's DLQ records
    carry UTF-8 header values only, anything else is decoded with replacement.
    """
    text = {key_: value_.decode("utf-8", "replace") for key_, value_ in headers}
    carrier = {k: v for k, v in text.items() if k in (h.TRACEPARENT, h.TRACESTATE)}
    token = context.attach(_PROPAGATOR.extract(carrier)) if carrier else None
    try:
        await broker.publish(value if value is not None else b"", topic, key=key, headers=text)
    finally:
        if token is not None:
            context.detach(token)
