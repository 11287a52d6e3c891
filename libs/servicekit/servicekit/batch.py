"""Batch consumers: one database transaction per batch of records, same guarantees.

``ReliableConsumer`` handles one record per transaction, which caps a stage at what one
round of inbox claim + state change + commit costs per lead. A ``BatchConsumer``
subscribes in batches and hands the service's handler every valid envelope of the batch
in one transaction. Delivery semantics are those of ``servicekit.consumer``:

* offsets are committed (``AckPolicy.NACK_ON_ERROR``) only after the handler returned,
  i.e. after the batch committed and every output was acknowledged by the broker; if
  that fails (e.g. the broker is unreachable) the batch comes again, and the inbox turns
  it into re-publications of the stored outputs (same ids, same bytes);
* a record that is not a valid envelope (``parse``) goes to the DLQ at once and the rest
  of the batch proceeds; the same event twice in one batch is handled once;
* a failing batch is retried with backoff up to ``retry_max_attempts``; then every record
  is handled on its own (its own transaction, its own retries), in batch order, so only
  the records that still fail are dead-lettered and the consumer keeps going.

Handlers claim their inputs with ``servicekit.inbox.claim`` and record outputs with
``store_outputs`` in the transaction they are given, and must decide a batch exactly as
one-by-one handling in batch order would (the fallback relies on it).

Tracing: FastStream gives a batch subscriber one span, a new trace root merely linked to
the records. A lead's journey must stay one trace, so every record gets its own
``<topic> process`` consumer span whose parent is the record's ``traceparent`` (linked to
the batch span), and that record's outputs are published with it current.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from leadflow_contracts import Envelope, TopicSpec
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.consumer import parse_envelope
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing
from servicekit.logging import bind_event_context, get_logger
from servicekit.runtime import Runtime

log = get_logger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()


class Handled(Protocol):
    """What became of one input event. ``outcome`` ``"duplicate"`` means the inbox had
    seen it (its stored outputs are re-published); anything else counts as ``ok``."""

    @property
    def outcome(self) -> str: ...

    @property
    def outputs(self) -> Sequence[Outgoing]: ...


H = TypeVar("H", bound=Handled)

#: ``handle(session, envelopes) -> {event_id: Handled}`` inside the batch's transaction.
BatchHandler = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[Mapping[uuid.UUID, H]]]


@dataclass
class BatchItem:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope[Any]
    span: Span


@dataclass
class _Attempt(Generic[H]):
    """``handled`` if it succeeded, else the last error and when the first attempt failed."""

    handled: Mapping[uuid.UUID, H] | None
    attempts: int
    error: BaseException = field(default_factory=lambda: RuntimeError("no error"))
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def start_record_span(tracer: Tracer, record: ConsumerRecord[Any, Any], group: str) -> Span:
    """Started, not current: a consumer span in the record's own trace."""
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


def end_record_span(span: Span, outcome: str, error: BaseException | None = None) -> None:
    span.set_attribute("leadflow.outcome", outcome)
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:200]))
    span.end()


class BatchConsumer(Generic[H]):
    """One topic, one consumer group, one transaction per batch (see module docstring).

    ``parse`` turns a record into an envelope or raises ``InvalidMessage`` (default: the
    topic's envelope model); ``observe`` runs once per handled record (service metrics).
    """

    def __init__(
        self,
        runtime: Runtime,
        spec: TopicSpec,
        group: str,
        handle: BatchHandler[H],
        *,
        parse: Callable[[ConsumerRecord[Any, Any]], Envelope[Any]] | None = None,
        observe: Callable[[BatchItem, H], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._spec = spec
        self._group = group
        self._handle_batch = handle
        self._parse = parse or (lambda record: parse_envelope(spec, record.value))
        self._observe = observe
        self._retry = runtime.retry_policy()
        self._tracer = runtime.tracer_provider.get_tracer(f"servicekit.batch.{group}")

    async def handle_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        items: dict[uuid.UUID, BatchItem] = {}  # first occurrence of each event id, in order
        for record in records:
            try:
                envelope = self._parse(record)
            except InvalidMessage as exc:
                await self._dead_letter(record, exc, 1, datetime.now(UTC))
                continue
            if envelope.event_id in items:
                self._count("duplicate")  # the same event twice in one batch: handle once
                continue
            span = start_record_span(self._tracer, record, self._group)
            items[envelope.event_id] = BatchItem(record, envelope, span)
        handled: Mapping[uuid.UUID, H] = {}
        try:
            handled = await self._handle(list(items.values()))
            await self._publish(items.values(), handled)
        except BaseException as exc:
            for item in items.values():
                end_record_span(item.span, "failed", exc)
            raise
        for event_id, item in items.items():
            done = handled.get(event_id)
            end_record_span(item.span, done.outcome if done else "dead_lettered")
            if done is not None:
                self._handled(item, done)

    async def _handle(self, items: list[BatchItem]) -> Mapping[uuid.UUID, H]:
        if not items:
            return {}
        batch = await self._attempt(items)
        if batch.handled is not None:
            return batch.handled
        if len(items) == 1:
            await self._dead_letter(items[0].record, batch.error, batch.attempts, batch.failed_at)
            return {}
        log.warning("batch failed; handling its records one by one", records=len(items))
        handled: dict[uuid.UUID, H] = {}
        for item in items:  # in batch order: what the batch would have done
            one = await self._attempt([item])
            if one.handled is not None:
                handled.update(one.handled)
            else:
                attempts = batch.attempts + one.attempts
                await self._dead_letter(item.record, one.error, attempts, batch.failed_at)
        return handled

    async def _attempt(self, items: list[BatchItem]) -> _Attempt[H]:
        """Handle ``items`` in one transaction, retried with backoff (not ``InvalidMessage``)."""
        envelopes = [i.envelope for i in items]
        failed_at: datetime | None = None
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                async with self._runtime.sessions() as session, session.begin():
                    handled = await self._handle_batch(session, envelopes)
                return _Attempt(handled, attempt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failed_at = failed_at or datetime.now(UTC)
                last = isinstance(exc, InvalidMessage) or attempt == self._retry.max_attempts
                log.warning(
                    "batch handler failed" if last else "batch handler failed, retrying",
                    topic=self._spec.name,
                    records=len(items),
                    attempt=attempt,
                    error=f"{type(exc).__name__}: {str(exc)[:300]}",
                )
                if last:
                    return _Attempt(None, attempt, exc, failed_at)
                metrics = self._runtime.metrics
                metrics.retries.labels(metrics.service, self._spec.name).inc()
                await asyncio.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns")

    async def _publish(self, items: Iterable[BatchItem], handled: Mapping[uuid.UUID, H]) -> None:
        """Publish every output in batch order (each with its record's span current, so it
        carries that record's trace) and wait for the broker's acknowledgements.

        A record's outputs reach the broker in the order the handler listed them (as
        ``ReliableConsumer`` publishes them): the first output of every record is
        acknowledged before any second output is sent, and so on — one round trip per
        output position, not per record. Consumers of several topics (audit) rely on it.
        """
        prefix = self._runtime.settings.topic_prefix
        outputs = [
            (item, done.outputs if (done := handled.get(item.envelope.event_id)) else ())
            for item in items
        ]
        for position in range(max((len(outs) for _, outs in outputs), default=0)):
            pending = []
            for item, outs in outputs:
                if position >= len(outs):
                    continue
                out = outs[position]
                with current(item.span):
                    pending.append(
                        await self._runtime.raw_producer.enqueue(
                            prefix + out.topic,
                            out.value_bytes(),
                            key=out.key.encode(),
                            headers=out.header_bytes(),
                        )
                    )
            await asyncio.gather(*pending)

    def _handled(self, item: BatchItem, done: H) -> None:
        envelope = item.envelope
        with bind_event_context(
            correlation_id=envelope.correlation_id,
            tenant_id=envelope.tenant_id,
            lead_id=envelope.lead_id,
        ):
            # Debug only: one line per handled record (a no-op at the default INFO level).
            log.debug(
                "message handled",
                topic=item.record.topic,
                partition=item.record.partition,
                offset=item.record.offset,
                event_id=str(envelope.event_id),
                event_type=envelope.event_type,
                outcome=done.outcome,
            )
        self._count("duplicate" if done.outcome == "duplicate" else "ok")
        if self._observe is not None:
            self._observe(item, done)

    def _count(self, outcome: str) -> None:
        metrics = self._runtime.metrics
        metrics.leads_processed.labels(metrics.service, outcome).inc()

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        exc: BaseException,
        attempts: int,
        first_failed_at: datetime,
    ) -> None:
        await self._runtime.dead_letters.publish(
            record,
            exc,
            consumer_group=self._group,
            attempts=attempts,
            first_failed_at=first_failed_at,
        )
        metrics = self._runtime.metrics
        self._count("dead_lettered")
        metrics.dlq_published.labels(metrics.service, self._spec.name, type(exc).__name__).inc()
        log.error(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
            error=f"{type(exc).__name__}: {str(exc)[:500]}",
        )

    def _record_lag(self, consumer: Any, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        last: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            last[key] = max(record.offset, last.get(key, -1))
        metrics = self._runtime.metrics
        for (topic, partition), offset in last.items():
            high = highwater(TopicPartition(topic, partition))
            if high is not None:
                metrics.consumer_lag.labels(metrics.service, topic, str(partition)).set(
                    max(0, high - offset - 1)
                )

    def register(self, *, max_records: int, timeout_ms: int) -> None:
        """Subscribe (before ``runtime.start``): batches of up to ``max_records``, waiting
        up to ``timeout_ms`` for records when none are buffered."""
        settings = self._runtime.settings

        async def consume_batch(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            await self.handle_batch(records)
            self._record_lag(msg.consumer, records)

        self._runtime.broker.subscriber(
            settings.topic_prefix + self._spec.name,
            group_id=self._group,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=timeout_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        )(consume_batch)
