from __future__ import annotations

import pytest
from leadflow_audit.settings import Settings


@pytest.fixture
def settings(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=database_url,
        topic_prefix=topic_prefix,
        dev_mode=True,
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=300,
        retry_base_delay_s=0.01,
        retry_max_delay_s=0.05,
    )
