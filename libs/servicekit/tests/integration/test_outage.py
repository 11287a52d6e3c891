"""A real PostgreSQL outage (the link cut by a proxy): HTTP answers 503 with Retry-After,
readiness says why, the consumer pauses and keeps its offsets, and when the database is
back every record is handled once — none dead-lettered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from leadflow_contracts import Envelope, LeadReceived
from leadflow_contracts.topics import LEAD_RECEIVED
from servicekit.events import Outgoing
from servicekit.http import create_http_app
from servicekit.runtime import Runtime
from servicekit.settings import ServiceSettings
from servicekit.testing.faults import TcpProxy
from servicekit.testing.helpers import TopicReader, eventually
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession

MakeReceived = Callable[[str, str], Envelope[LeadReceived]]


@pytest.fixture
async def proxy(settings: ServiceSettings) -> AsyncIterator[TcpProxy]:
    url = make_url(settings.database_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy
    await proxy.stop()


@pytest.mark.usefixtures("registry_topics", "tables")
async def test_database_outage_is_a_503_and_a_pause_never_a_dead_letter(
    settings: ServiceSettings,
    proxy: TcpProxy,
    make_received: MakeReceived,
    unique: str,
    subscribe: Callable[..., None],
) -> None:
    direct = Runtime.build(settings)
    async with direct.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE handled (webhook_id text PRIMARY KEY)"))
    await direct.engine.dispose()
    via_proxy = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    runtime = Runtime.build(
        settings.model_copy(
            update={"database_url": via_proxy.render_as_string(hide_password=False)}
        )
    )

    async def apply(session: AsyncSession, envelope: Envelope[Any]) -> list[Outgoing]:
        await session.execute(
            text("INSERT INTO handled VALUES (:id)"), {"id": envelope.payload.webhook_id}
        )
        return []

    group = f"kit-{unique}"
    subscribe(runtime, group, apply)
    api = APIRouter()

    @api.get("/v1/count")
    async def count(request: Request) -> dict[str, int]:
        async with request.app.state.runtime.sessions() as session:
            return {"handled": int(await session.scalar(text("SELECT count(*) FROM handled")))}

    app = create_http_app(runtime, title="outage", routers=[api])
    await runtime.start()
    tenant = f"tenant-{unique}"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kit"
        ) as http:
            await runtime.publisher.publish(
                Outgoing.of(LEAD_RECEIVED, make_received(tenant, "before"))
            )

            async def handled(n: int) -> bool:
                answer = await http.get("/v1/count")
                return answer.status_code == 200 and answer.json()["handled"] == n

            await eventually(lambda: handled(1), what="the record before the outage")

            await proxy.cut()
            down = await http.get("/v1/count")
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert down.headers["retry-after"] == str(settings.unavailable_retry_after_s)
            assert "database unavailable" in down.json()["detail"]
            for n in range(3):
                await runtime.publisher.publish(
                    Outgoing.of(LEAD_RECEIVED, make_received(tenant, f"during-{n}"))
                )

            async def paused() -> dict[str, Any] | None:
                ready = await http.get("/readyz")
                body: dict[str, Any] = ready.json()
                return body if ready.status_code == 503 and body["faults"] else None

            body = await eventually(paused, what="readiness to report the paused consumer")
            assert body["checks"]["database"] is False
            assert body["faults"][f"consumer {group}"]["reason"] == "paused: database unavailable"

            await proxy.restore()
            await eventually(lambda: handled(4), timeout_s=60, what="the records after it")
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
    finally:
        await runtime.stop()
    topic = settings.topic_prefix + LEAD_RECEIVED.dlq
    async with TopicReader(settings.kafka_bootstrap_servers, topic) as reader:
        assert await reader.drain() == []
