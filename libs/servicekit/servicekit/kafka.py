"""Kafka wiring (FastStream 0.7 + aiokafka): broker factory, publisher, topic creation."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from leadflow_contracts import TopicSpec
from opentelemetry.sdk.trace import TracerProvider

from servicekit.events import Outgoing
from servicekit.settings import ServiceSettings

_TOPIC_EXISTS = TopicAlreadyExistsError.errno


def create_broker(settings: ServiceSettings, tracer_provider: TracerProvider) -> KafkaBroker:
    """A broker whose producer waits for acks=all and whose spans carry trace context.

    Consumers are registered with ``servicekit.consumer.register_consumer`` so that
    offsets are committed only after a message is fully handled.
    """
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
        logger=logging.getLogger(f"faststream.{settings.service_name}"),
        log_level=logging.DEBUG,
    )


class EventPublisher:
    """Publishes ``Outgoing`` records and returns only once the broker acknowledged."""

    def __init__(self, broker: KafkaBroker, topic_prefix: str = "") -> None:
        self._broker = broker
        self._prefix = topic_prefix

    async def publish(self, record: Outgoing) -> None:
        await self._broker.publish(
            record.value_bytes(),
            self._prefix + record.topic,
            key=record.key.encode(),
            headers=dict(record.headers),
        )

    async def publish_all(self, records: Iterable[Outgoing]) -> None:
        # Sequential on purpose: records of one lead keep their order on its partition.
        for record in records:
            await self.publish(record)


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
