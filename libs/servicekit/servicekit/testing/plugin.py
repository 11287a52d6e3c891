"""pytest plugin (loaded with ``-p servicekit.testing.plugin``): real broker and database.

Session fixtures resolve the broker and the server once (see ``infra``); function
fixtures give each test its own database and its own topic prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from servicekit.db import drop_database, ensure_database, with_database
from servicekit.testing.infra import resolve_kafka, resolve_postgres


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    resolved = resolve_kafka()
    try:
        yield resolved.url
    finally:
        resolved.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a server where tests may create and drop databases."""
    resolved = resolve_postgres()
    try:
        yield resolved.url
    finally:
        resolved.stop()


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
