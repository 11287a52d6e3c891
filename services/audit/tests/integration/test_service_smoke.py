"""The audit service migrates its own database and reports healthy and ready."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from leadflow_audit.__main__ import MIGRATIONS
from leadflow_audit.app import create_app
from leadflow_audit.settings import Settings
from servicekit.migrations import upgrade


@pytest.mark.usefixtures("registry_topics")
def test_migrates_and_serves_health_ready_and_metrics(settings: Settings) -> None:
    upgrade(settings.database_url, MIGRATIONS)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["service"] == "audit"
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"broker": True, "database": True}
        assert "leads_processed_total" in client.get("/metrics").text
