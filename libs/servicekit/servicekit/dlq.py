"""Dead-letter records: the original key, value and headers plus ``x-dlq-*`` context."""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import dlq_topic
from leadflow_contracts import headers as h
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from servicekit.kafka import Header, RawProducer

_PROPAGATOR = TraceContextTextMapPropagator()

MAX_MESSAGE_CHARS = 1_000
MAX_STACKTRACE_CHARS = 8_000


def dlq_headers(
    record: ConsumerRecord[Any, Any],
    exc: BaseException,
    *,
    consumer_group: str,
    attempts: int,
    first_failed_at: datetime,
    last_failed_at: datetime,
) -> list[Header]:
    """The original headers as they are (order, repeated keys and bytes kept; an earlier
    dead-letter context dropped) plus this dead-letter context."""
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    context = {
        h.DLQ_ORIGINAL_TOPIC: record.topic,
        h.DLQ_ORIGINAL_PARTITION: str(record.partition),
        h.DLQ_ORIGINAL_OFFSET: str(record.offset),
        h.DLQ_CONSUMER_GROUP: consumer_group,
        h.DLQ_EXCEPTION_CLASS: f"{type(exc).__module__}.{type(exc).__qualname__}",
        h.DLQ_EXCEPTION_MESSAGE: str(exc)[:MAX_MESSAGE_CHARS],
        h.DLQ_STACKTRACE: stack[-MAX_STACKTRACE_CHARS:],
        h.DLQ_ATTEMPTS: str(attempts),
        h.DLQ_FIRST_FAILED_AT: first_failed_at.isoformat(),
        h.DLQ_LAST_FAILED_AT: last_failed_at.isoformat(),
    }
    original = [(k, v) for k, v in record.headers or () if k not in context]
    return original + [(k, v.encode()) for k, v in context.items()]


class DeadLetterPublisher:
    """Publishes a failed record to ``<original topic>.dlq`` and waits for the ack: the
    same key and value bytes, the original headers byte for byte (``RawProducer``)."""

    def __init__(self, producer: RawProducer) -> None:
        self._producer = producer

    async def publish(
        self,
        record: ConsumerRecord[Any, Any],
        exc: BaseException,
        *,
        consumer_group: str,
        attempts: int,
        first_failed_at: datetime,
    ) -> None:
        headers = dlq_headers(
            record,
            exc,
            consumer_group=consumer_group,
            attempts=attempts,
            first_failed_at=first_failed_at,
            last_failed_at=datetime.now(first_failed_at.tzinfo),
        )
        # The dead letter's publish span continues the record's own trace, not whatever
        # span is current (a batch's): a replay then stays in its lead's trace, and a
        # bulk replay never puts several leads into one trace.
        carrier = {
            k: (v or b"").decode("latin-1")
            for k, v in record.headers or ()
            if k in (h.TRACEPARENT, h.TRACESTATE)
        }
        await self._producer.send(
            dlq_topic(record.topic),
            record.value if record.value is not None else b"",
            key=record.key,
            headers=headers,
            parent=_PROPAGATOR.extract(carrier),  # no traceparent: a trace of its own
        )
