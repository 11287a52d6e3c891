"""The one consumer engine: every Leadflow consumer is a ``ConsumerEngine``.

A service hands it the topics, a consumer group, ``parse`` (record → item, or
``InvalidMessage``) and a batch function (items → ``{key: Handled}``); the engine owns
delivery, and these rules hold for every consumer alike:

* **at-least-once**: offsets are committed (``AckPolicy.NACK_ON_ERROR``) only after the
  batch function returned and every output and dead letter was acknowledged by the
  broker; if anything fails the batch comes again (the inbox turns a redelivery into
  re-publications of the stored outputs, same ids, same bytes);
* **bad records**: a record ``parse`` refuses goes to its ``<topic>.dlq`` at once and the
  rest of the batch proceeds; the same key twice in one batch is handled once; a batch
  that fails with a record-specific error is retried with backoff up to
  ``retry_max_attempts``, then every record is tried on its own, in batch order, so only
  the records that still fail are dead-lettered — the consumer keeps going;
* **infrastructure faults** (``servicekit.faults``: the database or the broker
  unreachable, a timeout) never dead-letter and never use up a record's attempts: the
  engine pauses its partitions, marks itself not-ready on ``/readyz`` with the reason,
  backs off, and tries the same step again until the dependency is back — then resumes
  by itself. Good records survive an outage of any length.

Latency: a batch also takes the records that the fetch sent as it began brings
(``top_up``, ``kafka_batch_top_up_ms``), so a record that arrives while a batch is
handled is in the next one, not the one after.

Tracing: FastStream gives a batch subscriber one span, a new trace root merely linked to
the records. A lead's journey must stay one trace, so (``trace_records``) every record
gets its own ``<topic> process`` consumer span whose parent is the record's
``traceparent`` (linked to the batch span), and that record's outputs are published with
it current.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing
from servicekit.faults import describe, is_infrastructure_fault
from servicekit.logging import bind_event_context, error_text, get_logger
from servicekit.runtime import Runtime
from servicekit.telemetry import records_spans, unrecorded_span

log = get_logger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACE_KEYS = frozenset(_PROPAGATOR.fields)


class Handled(Protocol):
    """What became of one input. ``outcome`` ``"duplicate"`` means it was handled before
    (its stored outputs are re-published); anything else counts as ``ok``."""

    @property
    def outcome(self) -> str: ...

    @property
    def outputs(self) -> Sequence[Outgoing]: ...


T = TypeVar("T")
H = TypeVar("H", bound=Handled)

#: ``handle(items) -> {key: Handled}``; an item whose key is missing from the result
#: counts as not handled (its span says so; it is not retried).
BatchFunction = Callable[[list[T]], Awaitable[Mapping[Any, H]]]


@dataclass(frozen=True)
class Done:
    """A ``Handled`` for consumers that emit nothing (audit, dlq)."""

    outcome: str = "ok"
    outputs: Sequence[Outgoing] = ()


@dataclass
class Item(Generic[T]):
    record: ConsumerRecord[Any, Any]
    value: T
    span: Span | None


@dataclass
class _Attempt(Generic[H]):
    """``handled`` if it succeeded, else the last error and when the first attempt failed."""

    handled: Mapping[Any, H] | None
    attempts: int
    error: BaseException = field(default_factory=lambda: RuntimeError("no error"))
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def start_record_span(
    tracer: Tracer, record: ConsumerRecord[Any, Any], group: str, ids: IdGenerator | None = None
) -> Span:
    """Started, not current: a consumer span in the record's own trace. ``ids`` given: the
    service records no spans, and the record's context stands in for it
    (``telemetry.unrecorded_span``)."""
    carrier = {k: v.decode("latin-1") for k, v in record.headers or () if k in _TRACE_KEYS}
    if ids is not None:
        parent = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
        return unrecorded_span(parent, ids)
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
def current(span: Span | None) -> Iterator[None]:
    if span is None:
        yield
        return
    with trace.use_span(span, end_on_exit=False, record_exception=False):
        yield


def end_record_span(span: Span | None, outcome: str, error: BaseException | None = None) -> None:
    if span is None:
        return
    span.set_attribute("leadflow.outcome", outcome)
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:200]))
    span.end()


class ConsumerEngine(Generic[T, H]):
    """One consumer group over one or more topics (see the module docstring).

    ``topics`` are registry names (the topic prefix is applied here); ``key`` identifies an
    item (default: its ``event_id``); ``order`` may reorder a batch's items before
    handling (audit: occurrence order); ``observe`` runs once per handled record. A
    consumer whose records have nowhere to be dead-lettered (the dlq service's own) sets
    ``dead_letter_on_record_fault=False``: every failure is then waited out.
    ``log_context`` gives the log fields of an item (correlation, tenant, lead id) for the
    debug line each handled record gets.
    """

    def __init__(
        self,
        runtime: Runtime,
        topics: Sequence[str],
        group: str,
        handle: BatchFunction[T, H],
        *,
        parse: Callable[[ConsumerRecord[Any, Any]], T],
        key: Callable[[T], Hashable] = lambda value: value.event_id,  # type: ignore[attr-defined]
        order: Callable[[list[Item[T]]], list[Item[T]]] | None = None,
        observe: Callable[[Item[T], H], None] | None = None,
        trace_records: bool = True,
        dead_letter_on_record_fault: bool = True,
        log_context: Callable[[T], dict[str, Any]] | None = None,
    ) -> None:
        self._runtime = runtime
        self._prefix = runtime.settings.topic_prefix
        self.topics = [self._prefix + name for name in topics]
        self._group = group
        self._handle_batch = handle
        self._parse = parse
        self._key = key
        self._order = order
        self._observe = observe
        self._trace = trace_records
        self._dead_letters = dead_letter_on_record_fault
        self._context = log_context
        self._retry = runtime.retry_policy()
        provider = runtime.tracer_provider
        self._tracer = provider.get_tracer(f"servicekit.engine.{group}")
        self._unrecorded = None if records_spans(provider) else provider.id_generator
        self._component = f"consumer {group}"
        self._paused_since: float | None = None
        self._faults_in_row = 0
        self._consumer: Any = None

    # -- one batch -------------------------------------------------------------------

    async def handle_batch(
        self, records: Sequence[ConsumerRecord[Any, Any]], consumer: Any = None
    ) -> None:
        self._consumer = consumer
        items: dict[Hashable, Item[T]] = {}  # first occurrence of each key, in order
        for record in records:
            try:
                value = self._parse(record)
            except InvalidMessage as exc:
                await self._dead_letter(record, exc, 1, datetime.now(UTC))
                continue
            key = self._key(value)
            if key in items:
                self._count("duplicate")  # the same input twice in one batch: handle once
                continue
            span = (
                start_record_span(self._tracer, record, self._group, self._unrecorded)
                if self._trace
                else None
            )
            items[key] = Item(record, value, span)
        ordered = self._order(list(items.values())) if self._order else list(items.values())
        handled: Mapping[Any, H] = {}
        try:
            handled = await self._handle(ordered)
            await self._until_done("publish", lambda: self._publish(ordered, handled))
        except BaseException as exc:
            for item in ordered:
                end_record_span(item.span, "failed", exc)
            raise
        for item in ordered:
            done = handled.get(self._key(item.value))
            end_record_span(item.span, done.outcome if done else "dead_lettered")
            if done is not None:
                self._handled(item, done)

    async def _handle(self, items: list[Item[T]]) -> Mapping[Any, H]:
        if not items:
            return {}
        batch = await self._attempt(items)
        if batch.handled is not None:
            return batch.handled
        if len(items) == 1:
            await self._dead_letter(items[0].record, batch.error, batch.attempts, batch.failed_at)
            return {}
        log.warning("batch failed; handling its records one by one", records=len(items))
        handled: dict[Hashable, H] = {}
        for item in items:  # in batch order: what the batch would have done
            one = await self._attempt([item])
            if one.handled is not None:
                handled.update(one.handled)
            else:
                attempts = batch.attempts + one.attempts
                await self._dead_letter(item.record, one.error, attempts, batch.failed_at)
        return handled

    async def _attempt(self, items: list[Item[T]]) -> _Attempt[H]:
        """Handle ``items``; a record fault is retried with backoff up to the policy's
        attempts (``InvalidMessage``: none), an infrastructure fault until it passes."""
        values = [i.value for i in items]
        failed_at: datetime | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                handled = await self._handle_batch(values)
                self._recovered()
                return _Attempt(handled, attempt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._dead_letters or is_infrastructure_fault(exc):
                    attempt -= 1  # the record did nothing wrong (or cannot be set aside)
                    await self._wait_out(exc, "handle")
                    continue
                failed_at = failed_at or datetime.now(UTC)
                last = isinstance(exc, InvalidMessage) or attempt >= self._retry.max_attempts
                log.warning(
                    "batch handler failed" if last else "batch handler failed, retrying",
                    topics=",".join(sorted({i.record.topic for i in items})),
                    records=len(items),
                    attempt=attempt,
                    error=error_text(exc, 300),
                )
                if last:
                    return _Attempt(None, attempt, exc, failed_at)
                metrics = self._runtime.metrics
                metrics.retries.labels(metrics.service, self._topic_label(items[0].record)).inc()
                await asyncio.sleep(self._retry.delay(attempt))

    # -- waiting out a dependency -------------------------------------------------------

    async def _until_done(self, step: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run a step that a record cannot make fail (publish, dead-letter) until it works."""
        while True:
            try:
                await run()
                self._recovered()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_infrastructure_fault(exc):
                    raise
                await self._wait_out(exc, step)

    async def _wait_out(self, exc: BaseException, step: str) -> None:
        """Pause (partitions, readiness), back off, and let the caller try again."""
        loop = asyncio.get_running_loop()
        metrics = self._runtime.metrics
        reason = describe(exc)
        if self._paused_since is None:
            self._paused_since = loop.time()
            metrics.consumer_paused.labels(metrics.service, self._group).set(1)
            self._pause_partitions()
        self._faults_in_row += 1
        self._runtime.health.fault(self._component, f"paused: {reason}")
        metrics.infrastructure_faults.labels(metrics.service, self._component).inc()
        delay = self._retry.delay(min(self._faults_in_row, 16))
        log.warning(
            "dependency unavailable; consumer paused, offsets kept",
            group=self._group,
            step=step,
            reason=reason,
            error=type(exc).__name__,
            retry_in_s=round(delay, 2),
        )
        await asyncio.sleep(delay)

    def _recovered(self) -> None:
        if self._paused_since is None:
            return
        paused_s = asyncio.get_running_loop().time() - self._paused_since
        self._paused_since = None
        self._faults_in_row = 0
        self._resume_partitions()
        metrics = self._runtime.metrics
        metrics.consumer_paused.labels(metrics.service, self._group).set(0)
        self._runtime.health.clear(self._component)
        log.info(
            "dependency back; consumer resumed", group=self._group, paused_s=round(paused_s, 1)
        )

    def _pause_partitions(self) -> None:
        """Stop the fetcher from buffering more while the handler waits (best effort)."""
        consumer = self._consumer
        if consumer is not None and hasattr(consumer, "pause"):
            try:
                consumer.pause(*consumer.assignment())
            except Exception as exc:  # e.g. in the middle of a rebalance
                log.debug("could not pause partitions", error=type(exc).__name__)

    def _resume_partitions(self) -> None:
        consumer = self._consumer
        if consumer is not None and hasattr(consumer, "resume"):
            try:
                consumer.resume(*consumer.paused())
            except Exception as exc:
                log.debug("could not resume partitions", error=type(exc).__name__)

    # -- outputs ---------------------------------------------------------------------

    async def _publish(self, items: Sequence[Item[T]], handled: Mapping[Any, H]) -> None:
        """Publish every output in batch order (each with its record's span current, so it
        carries that record's trace) and wait for the broker's acknowledgements.

        A record's outputs reach the broker in the order the handler listed them: the
        first output of every record is acknowledged before any second output is sent,
        and so on — one round trip per output position, not per record. Consumers of
        several topics (audit) rely on it.
        """
        outputs = [
            (item, done.outputs if (done := handled.get(self._key(item.value))) else ())
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
                            self._prefix + out.topic,
                            out.value_bytes(),
                            key=out.key.encode(),
                            headers=out.header_bytes(),
                        )
                    )
            await asyncio.gather(*pending)

    def _handled(self, item: Item[T], done: H) -> None:
        if self._context is not None:
            with bind_event_context(**self._context(item.value)):
                # Debug only: one line per handled record (a no-op at the default INFO).
                log.debug(
                    "message handled",
                    topic=item.record.topic,
                    partition=item.record.partition,
                    offset=item.record.offset,
                    outcome=done.outcome,
                )
        self._count("duplicate" if done.outcome == "duplicate" else "ok")
        if self._observe is not None:
            self._observe(item, done)

    def _count(self, outcome: str) -> None:
        metrics = self._runtime.metrics
        metrics.leads_processed.labels(metrics.service, outcome).inc()

    def _topic_label(self, record: ConsumerRecord[Any, Any]) -> str:
        topic: str = record.topic
        return topic[len(self._prefix) :] if topic.startswith(self._prefix) else topic

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        exc: BaseException,
        attempts: int,
        first_failed_at: datetime,
    ) -> None:
        async def publish() -> None:
            await self._runtime.dead_letters.publish(
                record,
                exc,
                consumer_group=self._group,
                attempts=attempts,
                first_failed_at=first_failed_at,
            )

        await self._until_done("dead-letter", publish)
        metrics = self._runtime.metrics
        self._count("dead_lettered")
        metrics.dlq_published.labels(
            metrics.service, self._topic_label(record), type(exc).__name__
        ).inc()
        log.error(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
            error=error_text(exc),
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

    # -- subscription ----------------------------------------------------------------

    def register(self, *, max_records: int, timeout_ms: int, **options: Any) -> None:
        """Subscribe (before ``runtime.start``): batches of up to ``max_records``, waiting
        up to ``timeout_ms`` for records when none are buffered. ``options`` go to the
        FastStream subscriber (e.g. fetch sizes)."""
        settings = self._runtime.settings

        top_up_ms = settings.kafka_batch_top_up_ms

        async def consume_batch(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            consumer = msg.consumer
            if top_up_ms and len(records) < max_records:
                records += await top_up(consumer, top_up_ms, max_records - len(records))
            try:
                await self.handle_batch(records, consumer)
            except BaseException:
                rewind(consumer, records)
                raise
            self._record_lag(consumer, records)

        consume_batch.__name__ = f"consume_{self._group}".replace("-", "_").replace(".", "_")
        self._runtime.broker.subscriber(
            *self.topics,
            group_id=self._group,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=timeout_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            **{"fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms, **options},
        )(consume_batch)


async def top_up(consumer: Any, timeout_ms: int, max_records: int) -> tuple[Any, ...]:
    """What the fetch sent as a batch began brings, waited for up to ``timeout_ms``.

    aiokafka sends a fetch for a partition only while none of its records are buffered:
    when a batch takes the buffer, one fetch goes out and comes back with what arrived
    meanwhile, and whatever arrives after that is fetched only when the next batch
    begins — to be handled in the batch after it. Taking that fetch's records into the
    batch that sent it lets a record wait one cycle, not two. They are committed with the
    batch (FastStream commits the consumer's position) and rewound with it on failure
    (``rewind``)."""
    more = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    return tuple(record for records in more.values() for record in records)


def rewind(consumer: Any, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
    """Seek every partition of a failed batch back to its earliest record, so the batch
    comes again and no commit passes a record that was not handled (FastStream rewinds
    only the records it fetched itself)."""
    earliest: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        earliest[tp] = min(record.offset, earliest.get(tp, record.offset))
    for tp, offset in earliest.items():
        try:
            consumer.seek(tp, offset)
        except Exception as exc:  # the partition was revoked meanwhile: its new owner reads it
            log.debug("could not rewind partition", partition=str(tp), error=type(exc).__name__)
