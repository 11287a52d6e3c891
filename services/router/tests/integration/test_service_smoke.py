"""The router service migrates its own database and reports healthy and ready."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from leadflow_router.__main__ import MIGRATIONS
from leadflow_router.adapters.tables import metadata
from leadflow_router.app import create_app
from leadflow_router.settings import Settings
from servicekit.db import sqlalchemy_url
from servicekit.inbox import metadata as inbox_metadata
from servicekit.migrations import upgrade
from servicekit.outbox import metadata as outbox_metadata
from servicekit.redrive import metadata as redrive_metadata
from sqlalchemy import MetaData, create_engine


def test_migrates_and_serves_health_ready_and_metrics(ready: Settings) -> None:
    """``ready`` migrated the database already; the second upgrade is a no-op."""
    upgrade_and_compare(ready.database_url)
    with TestClient(create_app(ready)) as client:
        assert client.get("/healthz").json()["service"] == "router"
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"broker": True, "database": True}
        assert "leads_processed_total" in client.get("/metrics").text


def upgrade_and_compare(url: str) -> None:
    """The migrations produce exactly the tables the code declares (router + inbox/outbox)."""
    upgrade(url, MIGRATIONS)
    declared = MetaData()
    for source in (metadata, inbox_metadata, outbox_metadata, redrive_metadata):
        for table in source.tables.values():
            table.to_metadata(declared)
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), declared)
    finally:
        engine.dispose()
    assert diff == []
