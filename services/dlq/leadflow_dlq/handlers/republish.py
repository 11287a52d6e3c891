"""Publishing a dead letter back to its original topic, inside the original trace."""

from __future__ import annotations

from collections.abc import Sequence

from leadflow_contracts import headers as h
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from servicekit.kafka import RawProducer

from leadflow_dlq.domain.records import Header

_PROPAGATOR = TraceContextTextMapPropagator()


async def republish(
    producer: RawProducer,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header],
) -> None:
    """Publish and wait for the broker's acknowledgement (acks=all).

    Key, value and headers byte for byte (repeated keys and non-UTF-8 values kept),
    except ``traceparent``/``tracestate``: the publish span is started as a child of the
    original ``traceparent`` and written there, so the replay shows up in the lead's own
    trace (same trace id).
    """
    carrier = {
        k: v.decode("utf-8", "replace") for k, v in headers if k in (h.TRACEPARENT, h.TRACESTATE)
    }
    parent = _PROPAGATOR.extract(carrier) if carrier else None
    await producer.send(
        topic, value if value is not None else b"", key=key, headers=headers, parent=parent
    )
