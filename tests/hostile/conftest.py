"""The five services served over real HTTP (as ``make fuzz`` serves them), each with its
own database, on the session's broker; seeded with one tenant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fuzz.targets import Run, Served, serve_all

PUBLIC_BASE_URL = "https://hooks.leadflow.example/ingest"


@pytest.fixture(scope="session")
def served(kafka_bootstrap: str, postgres_url: str) -> Iterator[Served]:
    run = Run.new(postgres_url, kafka_bootstrap)
    with serve_all(run, ingest={"public_base_url": PUBLIC_BASE_URL}) as served:
        yield served


class Api:
    """One service's HTTP API with a token of the seeded run."""

    def __init__(self, served: Served, service: str) -> None:
        self.run = served.run
        self.base = served.urls[service]
        self.http = httpx.Client(base_url=self.base, timeout=30)

    def call(
        self,
        method: str,
        path: str,
        *,
        role: str = "admin",
        tenants: list[str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = self.run.token(role, tenants or ["*"])
        return self.http.request(
            method,
            path,
            json=json,
            content=content,
            params=params,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
        )


@pytest.fixture(scope="session")
def api(served: Served) -> Iterator[dict[str, Api]]:
    apis = {service: Api(served, service) for service in served.urls}
    yield apis
    for one in apis.values():
        one.http.close()
