"""The production-shaped stack in containers: ``make test-compose``.

Builds every image, brings ``deploy/compose`` up with testcontainers' compose support
(profile kafka-single, fresh secrets) and runs the journeys of ``tests/e2e`` in live mode
against it; and shows that the test fixtures take the testcontainers path when a Docker
engine answers. Needs a Docker engine with the compose plugin; ``make test`` collects
this module too, and skips it: bringing the stack up takes minutes.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from leadflow_local.observability import COMPOSE_DIR
from servicekit.embedded import free_port
from servicekit.testing.infra import docker_available, resolve_kafka, resolve_postgres

ROOT = COMPOSE_DIR.parents[1]
PORTS = {"ingest": 8001, "scoring": 8002, "router": 8003, "audit": 8004, "dlq": 8005}

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("LEADFLOW_TEST_COMPOSE") != "1",
        reason="run by `make test-compose` (it builds and starts the whole compose stack)",
    ),
    pytest.mark.timeout(1800),
]


@pytest.fixture(scope="module")
def docker() -> None:
    if not docker_available():
        pytest.skip("no Docker engine answers (docker.from_env().ping() failed)")


@pytest.fixture(scope="module")
def secrets_env(docker: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    values = {
        "COMPOSE_PROFILES": "kafka-single",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "LEADFLOW_ADMIN_JWT_SECRET": secrets.token_urlsafe(32),
        "LEADFLOW_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        # A PostgreSQL of the machine may hold 5432.
        "POSTGRES_HOST_PORT": str(free_port()),
    }
    path = tmp_path_factory.mktemp("compose") / "test.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return values | {"env_file": str(path)}


@pytest.fixture(scope="module")
def compose_stack(secrets_env: dict[str, str]) -> Iterator[dict[str, str]]:
    from testcontainers.compose import DockerCompose

    stack = DockerCompose(
        COMPOSE_DIR,
        "compose.yaml",
        build=True,
        wait=True,  # every healthcheck green: the services' /readyz
        env_file=secrets_env["env_file"],
        profiles=["kafka-single"],
    )
    with stack:
        yield secrets_env


def test_journeys_pass_against_the_compose_stack(compose_stack: dict[str, str]) -> None:
    urls = ",".join(f"{name}=http://127.0.0.1:{port}" for name, port in PORTS.items())
    password = compose_stack["POSTGRES_PASSWORD"]
    env = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    } | {
        "LEADFLOW_E2E_BASE_URLS": urls,
        "LEADFLOW_E2E_JWT_SECRET": compose_stack["LEADFLOW_ADMIN_JWT_SECRET"],
        "LEADFLOW_E2E_KAFKA": "127.0.0.1:19092",
        "LEADFLOW_E2E_DATABASE_URL": (
            f"postgresql://postgres:{password}@127.0.0.1:{compose_stack['POSTGRES_HOST_PORT']}"
            "/postgres"
        ),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/e2e"], cwd=ROOT, env=env, check=False
    )
    assert done.returncode == 0, "the journeys failed against the compose stack (output above)"


def test_fixtures_take_the_testcontainers_path(
    docker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for resolve in (resolve_kafka, resolve_postgres):
        resolved = resolve()
        try:
            assert resolved.origin == "testcontainers"
        finally:
            resolved.stop()
