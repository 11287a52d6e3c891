"""The journey suite's world: the whole stack as separate processes, black-box access only.

Fixtures only; what they hand out lives in ``tests/e2e/support`` (see its docstring for the
local and live modes).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from leadflow_contracts.topics import REGISTRY
from servicekit.testing.helpers import TopicReader

from tests.e2e.support import evidence
from tests.e2e.support.api_client import Api, Provision
from tests.e2e.support.audit import wait_timeline
from tests.e2e.support.bus import Bus
from tests.e2e.support.deployment import (
    PIPELINE_TIMEOUT_S,
    Deployment,
    live_deployment,
    live_urls,
    local_deployment,
)
from tests.e2e.support.poison import store_unloadable_rule_set


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    urls = live_urls()
    if urls:
        with live_deployment(urls) as live:
            yield live
        return
    with local_deployment(tmp_path_factory.mktemp("leadflow-stack")) as local:
        yield local


@pytest.fixture(autouse=True)
async def proof_evidence(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Records the test's evidence for ``make proof`` (only when LEADFLOW_PROOF_DIR is set)."""
    directory = evidence.proof_dir()
    if directory is None:
        yield
        return
    evidence.start(request.node.nodeid)
    try:
        yield
    finally:
        await evidence.finish(directory)


@pytest.fixture(scope="session")
async def api(deployment: Deployment) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(timeout=30.0) as http:
        yield Api(deployment, http)


@pytest.fixture
def provision(api: Api) -> Provision:
    return Provision(api)


@pytest.fixture
async def bus(deployment: Deployment) -> AsyncIterator[Bus]:
    topics = [spec.name for spec in REGISTRY] + [spec.dlq for spec in REGISTRY]
    async with TopicReader(deployment.bootstrap_servers, *topics) as reader:
        yield Bus(reader)


@pytest.fixture
def timeline(api: Api) -> Any:
    async def get(
        slug: str, lead_id: uuid.UUID, *types: str, timeout_s: float = PIPELINE_TIMEOUT_S
    ) -> dict[str, Any]:
        return await wait_timeline(api, slug, lead_id, *types, timeout_s=timeout_s)

    return get


@pytest.fixture
def unloadable_rule_set(deployment: Deployment) -> Any:
    """``await unloadable_rule_set(slug)`` stores a scoring version this release cannot
    load (needs the database: skipped in live mode without LEADFLOW_E2E_DATABASE_URL)."""
    if deployment.database_url is None:
        pytest.skip(
            "live mode without LEADFLOW_E2E_DATABASE_URL: the unloadable rule set can only be "
            "written below the API (scoring validates every PUT)"
        )
    url = deployment.service_database_url("scoring")
    assert url is not None

    async def store(slug: str) -> int:
        return await store_unloadable_rule_set(url, slug)

    return store
