"""pytest plugin (loaded with ``-p servicekit.testing.plugin``): real broker and database.

Session fixtures resolve the broker and the server once (see ``infra``); function
fixtures give each test its own database and its own topic prefix, and the settings every
service's tests share (``service_settings``). Tests under a ``unit`` folder may not use
the broker or PostgreSQL: ``make test-unit`` runs them in seconds, with no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from servicekit.db import drop_database, ensure_database, with_database
from servicekit.testing.infra import Resolved, resolve_kafka, resolve_postgres

#: The fixtures that reach the broker or the database server.
IO_FIXTURES = frozenset({"kafka_bootstrap", "postgres_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A unit test that reaches the broker or PostgreSQL belongs in ``integration``."""
    for item in items:
        used = IO_FIXTURES & set(getattr(item, "fixturenames", ()))
        if "unit" in item.path.parts and used:
            raise pytest.UsageError(
                f"{item.nodeid} is under tests/unit but uses {', '.join(sorted(used))}: "
                "move it to tests/integration"
            )


def _held(resolve: Callable[[], Resolved]) -> Iterator[str]:
    """The URL of what ``resolve`` finds or starts, stopped when the session ends."""
    resolved = resolve()
    try:
        yield resolved.url
    finally:
        resolved.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    yield from _held(resolve_kafka)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a server where tests may create and drop databases."""
    yield from _held(resolve_postgres)


@pytest.fixture
def unique() -> str:
    """A short id unique to this test (names of tenants, groups, topics)."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def topic_prefix(unique: str) -> str:
    return f"t{unique}."


@pytest.fixture
async def registry_topics(kafka_bootstrap: str, topic_prefix: str) -> list[str]:
    """Every registry topic (and its ``.dlq``) under this test's prefix, created as the
    launcher creates them: services never rely on broker auto-create."""
    from leadflow_contracts import REGISTRY

    from servicekit.kafka import ensure_topics

    return await ensure_topics(kafka_bootstrap, REGISTRY, name_prefix=topic_prefix)


@pytest.fixture
def database_url(postgres_url: str, unique: str) -> Iterator[str]:
    """A fresh, empty database for this test; dropped afterwards."""
    url = with_database(postgres_url, f"leadflow_test_{unique}")
    ensure_database(url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def service_settings(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> dict[str, Any]:
    """The settings fields every service's tests share: this test's broker, database and
    topic prefix, dev mode, quick group joins and short retry delays. A service's
    ``settings`` fixture is ``Settings(**service_settings, <its own>)``."""
    return {
        "kafka_bootstrap_servers": kafka_bootstrap,
        "database_url": database_url,
        "topic_prefix": topic_prefix,
        "dev_mode": True,
        "kafka_session_timeout_ms": 3000,
        "kafka_heartbeat_interval_ms": 300,
        "retry_base_delay_s": 0.01,
        "retry_max_delay_s": 0.05,
    }
