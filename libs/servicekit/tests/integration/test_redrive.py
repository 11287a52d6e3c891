"""PostgreSQL is the source of truth: a poisoned outbox row is parked (the rest flow), and
what a service emitted is re-published after the broker lost its data."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from leadflow_contracts import REGISTRY, Envelope, LeadReceived
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from servicekit.auth import mint_token
from servicekit.embedded import EmbeddedKafka, free_port
from servicekit.events import Outgoing
from servicekit.faults import is_infrastructure_fault
from servicekit.http import create_http_app
from servicekit.inbox import inbox_table
from servicekit.kafka import ensure_topics
from servicekit.outbox import outbox_table, stage
from servicekit.runtime import Runtime
from servicekit.settings import DEV_JWT_SECRET, ServiceSettings
from servicekit.testing.helpers import TopicReader, eventually
from sqlalchemy import select

MakeReceived = Callable[[str, str], Envelope[LeadReceived]]


async def test_a_record_that_cannot_be_published_is_parked_and_the_rest_flow(
    runtime: Runtime, make_received: MakeReceived, unique: str
) -> None:
    """A value JSON and jsonb can hold but the producer cannot serialize (an integer past
    64 bits) used to stop the relay for every tenant, for good."""
    good = [Outgoing.of(LEAD_RECEIVED, make_received(f"t{n}-{unique}", "w")) for n in range(2)]
    poisoned = Outgoing(LEAD_RECEIVED.name, "poison", {"n": 2**64}, {})
    async with runtime.sessions() as session, session.begin():
        await stage(session, poisoned, *good)
    assert await runtime.outbox.flush() == 2
    assert await runtime.outbox.flush() == 0  # nothing left pending: the parked row stays out
    async with runtime.sessions() as session:
        rows = (await session.execute(select(outbox_table).order_by("position"))).all()
    assert rows[0].parked_at is not None
    assert rows[0].published_at is None
    assert "Integer exceeds 64-bit range" in rows[0].error
    assert all(r.published_at is not None and r.parked_at is None for r in rows[1:])
    topic = runtime.settings.topic_prefix + LEAD_RECEIVED.name
    async with TopicReader(runtime.settings.kafka_bootstrap_servers, topic) as reader:
        records = await reader.wait_for(lambda rs: len(rs) >= 2, what="the good records")
    assert sorted(r.key for r in records) == sorted(o.key.encode() for o in good)
    metrics = runtime.metrics
    assert metrics.outbox_parked.labels(metrics.service)._value.get() == 1


@pytest.mark.usefixtures("tables")
async def test_after_the_broker_lost_its_data_everything_emitted_is_redriven(
    settings: ServiceSettings, make_received: MakeReceived, unique: str
) -> None:
    """The embedded broker keeps nothing across a restart and comes back with a new
    cluster id. The watch waits for the topics to be recreated, then re-publishes the
    outbox and the consumers' stored outputs; readiness says what is missing meanwhile."""
    port = free_port()
    broker = EmbeddedKafka(port=port).start()
    ingest = settings.model_copy(
        update={"service_name": "ingest", "kafka_bootstrap_servers": broker.bootstrap_servers}
    )
    runtime = Runtime.build(ingest)
    watch = runtime.broker_watch()  # as the runtime starts it, before anything is emitted
    try:
        await ensure_topics(broker.bootstrap_servers, REGISTRY, name_prefix=ingest.topic_prefix)
        received = [make_received(f"acme-{unique}", f"w{n}") for n in range(3)]
        created = Outgoing(LEAD_CREATED.name, str(received[0].lead_id), {"e": unique}, {})
        async with runtime.sessions() as session, session.begin():
            await stage(session, *(Outgoing.of(LEAD_RECEIVED, e) for e in received))
            await session.execute(
                inbox_table.insert().values(
                    consumer_group="ingest-worker",
                    event_id=uuid.uuid4(),
                    topic=LEAD_RECEIVED.name,
                    outputs=[created.to_json()],
                )
            )
        assert await runtime.outbox.flush() == 3
        assert await watch.check() == 0  # the first look records the incarnation
        assert await watch.check() == 0  # nothing lost

        broker.stop()
        broker = EmbeddedKafka(port=port).start()

        async def look() -> list[int]:
            """One check, once the client has reconnected (the watch's loop retries)."""
            try:
                return [await watch.check()]
            except Exception as exc:
                if is_infrastructure_fault(exc):
                    return []
                raise

        assert await eventually(look, what="a look at the new broker") == [0]  # no topics yet
        fault = runtime.health.faults()["broker topics"]["reason"]
        assert fault.startswith("missing: ")
        assert LEAD_RECEIVED.name in fault
        await ensure_topics(broker.bootstrap_servers, REGISTRY, name_prefix=ingest.topic_prefix)
        assert await watch.check() == 4
        assert "broker topics" not in runtime.health.faults()
        assert await watch.check() == 0  # once

        prefix = ingest.topic_prefix
        topics = (prefix + LEAD_RECEIVED.name, prefix + LEAD_CREATED.name)
        async with TopicReader(broker.bootstrap_servers, *topics) as reader:
            records = await reader.wait_for(lambda rs: len(rs) >= 4, what="the redriven records")
        by_topic = {t: sorted(r.key for r in records if r.topic == t) for t in topics}
        assert by_topic[topics[0]] == sorted(str(e.lead_id).encode() for e in received)
        assert by_topic[topics[1]] == [created.key.encode()]
    finally:
        await runtime.stop()
        broker.stop()


@pytest.mark.usefixtures("registry_topics")
async def test_an_operator_redrives_a_period_with_an_admin_token_for_every_tenant(
    runtime: Runtime, make_received: MakeReceived, unique: str
) -> None:
    async with runtime.sessions() as session, session.begin():
        await stage(session, Outgoing.of(LEAD_RECEIVED, make_received(f"a-{unique}", "w")))
    app = create_http_app(runtime, title="kit", jwt_secret=DEV_JWT_SECRET)
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    def bearer(tenants: list[str], role: str = "admin") -> dict[str, str]:
        token = mint_token(DEV_JWT_SECRET, sub="op", role=role, tenants=tenants)
        return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kit"
    ) as http:
        one_tenant = await http.post("/v1/redrive", json={"since": since}, headers=bearer(["a"]))
        assert one_tenant.status_code == 403, one_tenant.text
        manager = await http.post(
            "/v1/redrive", json={"since": since}, headers=bearer(["*"], "manager")
        )
        assert manager.status_code == 403, manager.text
        too_old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
        old = await http.post("/v1/redrive", json={"since": too_old}, headers=bearer(["*"]))
        assert old.status_code == 422
        assert old.json()["errors"][0]["field"] == "body.since"
        naive = await http.post(
            "/v1/redrive", json={"since": "2026-12-01T00:00:00"}, headers=bearer(["*"])
        )
        assert naive.status_code == 422, naive.text
        done = await http.post("/v1/redrive", json={"since": since}, headers=bearer(["*"]))
        assert done.status_code == 200, done.text
        assert done.json()["republished"] == 1
