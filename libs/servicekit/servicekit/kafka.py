"""Kafka wiring (FastStream 0.7 + aiokafka): broker factory, publisher, topic creation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, NotRequired, TypedDict, Unpack

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka import client as aiokafka_client
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.protocol.metadata import MetadataRequest
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from leadflow_contracts import TopicSpec
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from servicekit.events import Outgoing
from servicekit.settings import ServiceSettings
from servicekit.telemetry import records_spans, unrecorded_span

_TOPIC_EXISTS = TopicAlreadyExistsError.errno


class _NoAutoCreateMetadataRequest(MetadataRequest):  # type: ignore[misc]
    """A metadata request that never asks the broker to create the topics it names."""

    def __init__(self, topics: list[str] | None = None, allow_auto_topic_creation: Any = None):
        super().__init__(topics, False)


def refuse_topic_auto_creation() -> None:
    """Make every aiokafka client of this process ask for metadata without
    ``allow_auto_topic_creation`` (the protocol's default is to create).

    Topics come from the registry only (the launcher, ``leadflow topics ensure``, the
    compose ``topics`` job). A producer whose topic is missing — a broker that lost its data —
    then waits for the topic and fails with a retriable error (an outage: 503, the
    consumer pauses) instead of creating it with the broker's default partitions and
    retention while the registry's creation races it. aiokafka has no option for it, so
    its client module's request class is replaced (idempotent; called when a producer
    or broker is built, never at import).
    """
    aiokafka_client.MetadataRequest = _NoAutoCreateMetadataRequest


def _utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


def _text_safe(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    """``record`` with header values FastStream can decode (invalid UTF-8 replaced)."""
    if all(_utf8(v) for _, v in record.headers or ()):
        return record
    headers = [(k, (v or b"").decode("utf-8", "replace").encode()) for k, v in record.headers]
    return replace(record, headers=headers)


def _safe(raw: Any) -> Any:
    return tuple(_text_safe(r) for r in raw) if isinstance(raw, tuple) else _text_safe(raw)


async def lenient_parser(raw: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decodes every header value as UTF-8 before a handler runs, and a record
    with a binary header value fails there — it never reaches the handler that would
    dead-letter it, and a batch subscriber stalls on it. FastStream parses a copy with
    invalid UTF-8 replaced; the parsed message keeps the untouched record(s) as
    ``raw_message``, so handlers read, and dead letters carry, the original bytes
    (bodies are not decoded at all: ``raw_decoder``)."""
    parsed = await original(_safe(raw))
    parsed.raw_message = raw
    return parsed


async def raw_decoder(msg: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """No body decoding: every Leadflow handler reads the untouched record(s) from
    ``msg.raw_message`` and validates the envelope itself (pydantic, from bytes).
    FastStream's own decoder would ``json.loads`` every body (a second full parse
    nobody reads) and decode a batch's records one by one."""
    return msg.body


def create_broker(settings: ServiceSettings, tracer_provider: TracerProvider) -> KafkaBroker:
    """A broker whose producer waits for acks=all and whose spans carry trace context.

    Consumers are ``servicekit.engine.ConsumerEngine`` subscriptions, so that offsets are
    committed only after a message is fully handled.
    """
    refuse_topic_auto_creation()
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=settings.kafka_linger_ms,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        client_id=settings.service_name,
        # Topics come from the registry (launcher / `leadflow topics ensure`), never from
        # a subscriber starting against a missing topic with one partition.
        allow_auto_create_topics=False,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        parser=lenient_parser,
        decoder=raw_decoder,
        logger=logging.getLogger(f"faststream.{settings.service_name}"),
        log_level=logging.DEBUG,
    )


class EventPublisher:
    """Publishes ``Outgoing`` records and returns only once the broker acknowledged."""

    def __init__(self, producer: RawProducer, topic_prefix: str = "") -> None:
        self._producer = producer
        self._prefix = topic_prefix

    async def _enqueue(
        self, record: Outgoing, parent: Context | None = None
    ) -> asyncio.Future[Any]:
        return await self._producer.enqueue(
            self._prefix + record.topic,
            record.value_bytes(),
            key=record.key.encode(),
            headers=record.header_bytes(),
            parent=parent,
        )

    async def publish(self, record: Outgoing) -> None:
        await (await self._enqueue(record))

    async def publish_pipelined(self, records: Sequence[Outgoing]) -> int:
        """Hand every record to the producer, then wait for all acknowledgements (records
        sent together share requests; their order per partition is the given order)."""
        pending = [await self._enqueue(r) for r in records]
        await asyncio.gather(*pending)
        return len(pending)

    async def publish_each(
        self, records: Sequence[tuple[Outgoing, Context | None]]
    ) -> list[BaseException | None]:
        """Like ``publish_pipelined``, each record in the trace of its own ``parent``
        context, and one outcome per record: None once the broker acknowledged it, else
        what refused it (the others are unaffected)."""

        async def one(record: Outgoing, parent: Context | None) -> None:
            await (await self._enqueue(record, parent))

        outcomes = await asyncio.gather(*(one(r, p) for r, p in records), return_exceptions=True)
        return [o if isinstance(o, BaseException) else None for o in outcomes]


def topic_definitions(specs: Sequence[TopicSpec]) -> list[NewTopic]:
    topics: list[NewTopic] = []
    for spec in specs:
        config = {"retention.ms": str(spec.retention_ms)}
        topics.append(NewTopic(spec.name, spec.partitions, 1, topic_configs=config))
        topics.append(NewTopic(spec.dlq, 1, 1, topic_configs=config))
    return topics


async def ensure_topics(
    bootstrap_servers: str,
    specs: Sequence[TopicSpec],
    *,
    replication_factor: int = 1,
    name_prefix: str = "",
) -> list[str]:
    """Create every topic of ``specs`` (and its ``.dlq``) that does not exist yet.

    Idempotent: existing topics are left alone. Returns the names that were created.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        wanted = [
            NewTopic(
                name_prefix + t.name,
                t.num_partitions,
                replication_factor,
                topic_configs=t.topic_configs,
            )
            for t in topic_definitions(specs)
        ]
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        created: list[str] = []
        if missing:
            response = await admin.create_topics(missing)
            for name, code, message in _topic_errors(response):
                if code == 0:
                    created.append(name)
                elif code != _TOPIC_EXISTS:
                    raise RuntimeError(f"could not create topic {name!r}: {message} ({code})")
        return created
    finally:
        await admin.close()


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    errors = getattr(response, "topic_errors", [])
    return [(e[0], e[1], e[2] if len(e) > 2 else None) for e in errors]


Header = tuple[str, bytes]
_TRACE_HEADERS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()


class RecordOptions(TypedDict):
    """A record's key and headers, and the trace context its PRODUCER span is a child of
    (default: the current span)."""

    key: bytes | None
    headers: Sequence[Header]
    parent: NotRequired[Context | None]


class RawProducer:
    """Every record a service publishes goes through this aiokafka producer (acks=all,
    idempotence, linger and timeouts from the settings; it starts on first use).

    Headers go out byte for byte: repeated keys and values that are not UTF-8 survive,
    which FastStream's publish API (headers as a text mapping) cannot carry — dead
    letters and replays need that. It also skips FastStream's publish middlewares
    (bench/README.md has what they cost).

    Like FastStream's telemetry middleware, each publish is a PRODUCER span whose
    context replaces the record's ``traceparent``/``tracestate`` (child of ``parent``,
    else of the current span), so the record stays in its lead's trace. A service that
    records no spans (``servicekit.telemetry``) writes that context itself (a new trace's
    root when there is none).
    """

    def __init__(self, settings: ServiceSettings, tracer_provider: TracerProvider) -> None:
        self._settings = settings
        self._tracer = tracer_provider.get_tracer("servicekit.kafka.raw")
        self._unrecorded = None if records_spans(tracer_provider) else tracer_provider.id_generator
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def started(self) -> AIOKafkaProducer:
        if self._producer is not None:  # every publish passes here: no lock once started
            return self._producer
        async with self._lock:
            if self._producer is None:
                refuse_topic_auto_creation()
                s = self._settings
                producer = AIOKafkaProducer(
                    bootstrap_servers=s.kafka_bootstrap_servers,
                    acks="all",
                    enable_idempotence=s.kafka_enable_idempotence,
                    request_timeout_ms=s.kafka_request_timeout_ms,
                    linger_ms=s.kafka_linger_ms,
                    client_id=f"{s.service_name}-raw",
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()  # a failed start leaves its client open
                    raise
                self._producer = producer
            return self._producer

    async def send(self, topic: str, value: bytes | None, **record: Unpack[RecordOptions]) -> None:
        """Publish and wait for the broker's acknowledgement."""
        await (await self.enqueue(topic, value, **record))

    async def enqueue(
        self, topic: str, value: bytes | None, **record: Unpack[RecordOptions]
    ) -> asyncio.Future[Any]:
        """Hand the record to the producer; the returned future resolves with the
        broker's acknowledgement (records enqueued together share requests)."""
        producer = await self.started()
        carrier: dict[str, str] = {}
        if self._unrecorded is not None:
            parent = trace.get_current_span(record.get("parent")).get_span_context()
            span = unrecorded_span(parent, self._unrecorded)
            _PROPAGATOR.inject(carrier, trace.set_span_in_context(span))
            return await self._send(producer, topic, value, record, carrier)
        with self._tracer.start_as_current_span(
            f"{topic} publish",
            context=record.get("parent"),
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
        ):
            _PROPAGATOR.inject(carrier)
            return await self._send(producer, topic, value, record, carrier)

    @staticmethod
    async def _send(
        producer: AIOKafkaProducer,
        topic: str,
        value: bytes | None,
        record: RecordOptions,
        carrier: dict[str, str],
    ) -> asyncio.Future[Any]:
        sent = [(k, v) for k, v in record["headers"] if k not in _TRACE_HEADERS]
        sent += [(k, v.encode()) for k, v in carrier.items()]
        future: asyncio.Future[Any] = await producer.send(
            topic, value, key=record["key"], headers=sent
        )
        return future

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
