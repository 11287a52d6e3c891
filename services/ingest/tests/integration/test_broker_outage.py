"""Broker down → 503 (never a 202 that could be lost); broker back → the retry flows."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.db import libpq_url
from servicekit.embedded import EmbeddedKafka, free_port
from servicekit.kafka import ensure_topics
from servicekit.testing.helpers import TopicReader, eventually

SPECS = [LEAD_RECEIVED, LEAD_CREATED, CONFIG_CHANGED]


async def test_broker_down_answers_503_and_the_retry_is_accepted_later(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    port = free_port()
    broker = EmbeddedKafka(port=port).start()
    try:
        settings = ready.model_copy(
            update={
                "kafka_bootstrap_servers": broker.bootstrap_servers,
                "broker_ack_timeout_s": 1.5,
            }
        )
        await ensure_topics(broker.bootstrap_servers, SPECS, name_prefix=settings.topic_prefix)
        with TestClient(create_app(settings)) as client:
            acme = kit.provision(client, make_slug("acme"))
            broker.stop()
            raw, headers = kit.signed(acme.secret, {"email": "outage@corp.example"})
            down = client.post(acme.url, content=raw, headers=headers)
            assert down.status_code == 503, down.text
            assert down.json()["type"].endswith("/service-unavailable")
            assert int(down.headers["retry-after"]) > 0

            broker = EmbeddedKafka(port=port).start()
            await ensure_topics(broker.bootstrap_servers, SPECS, name_prefix=settings.topic_prefix)
            answers: list[Any] = []

            async def retry_accepted() -> bool:  # the caller retries until accepted
                answers.append(client.post(acme.url, content=raw, headers=headers))
                return bool(answers[-1].status_code == 202)

            await eventually(retry_accepted, timeout_s=30, interval_s=0.5, what="a 202")
            assert {a.status_code for a in answers[:-1]} <= {503}
            again = answers[-1]
            assert client.post(acme.url, content=raw, headers=headers).status_code == 200
            lead_id = again.json()["lead_id"]
            created_topic = settings.topic_prefix + LEAD_CREATED.name
            async with TopicReader(broker.bootstrap_servers, created_topic) as reader:
                await reader.wait_for(
                    lambda r: any(v["lead_id"] == lead_id for v in reader.values()),
                    timeout_s=30,
                    what="the retried lead to flow to lead.created",
                )
            metrics = client.get("/metrics").text
            assert 'outcome="unavailable",source="generic",tenant="_all"' in metrics
    finally:
        broker.stop()


async def test_dropped_database_connections_cost_at_most_a_503_never_a_lost_lead(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    """Without pre-ping (ingest's default) a pooled connection the database dropped
    fails its first use: that webhook is refused with 503 (never 500, never a 202), the
    pool is renewed, the retry is accepted and the lead flows on."""
    settings = ready.model_copy(update={"config_cache_ttl_s": 300.0})
    assert settings.db_pool_pre_ping is False
    with TestClient(create_app(settings)) as client:
        acme = kit.provision(client, make_slug("acme"))
        warm_raw, warm_headers = kit.signed(acme.secret, {"email": "warm@corp.example"})
        assert client.post(acme.url, content=warm_raw, headers=warm_headers).status_code == 202
        with psycopg.connect(libpq_url(settings.database_url), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        raw, headers = kit.signed(acme.secret, {"email": "dropped@corp.example"})
        answers: list[Any] = []

        async def accepted() -> bool:  # the sender retries until accepted
            answers.append(client.post(acme.url, content=raw, headers=headers))
            return bool(answers[-1].status_code == 202)

        await eventually(accepted, timeout_s=20, interval_s=0.2, what="a 202")
        assert {a.status_code for a in answers[:-1]} <= {503}, [a.text for a in answers]
        assert len(answers) <= 3
        lead_id = answers[-1].json()["lead_id"]
        created_topic = settings.topic_prefix + LEAD_CREATED.name
        async with TopicReader(settings.kafka_bootstrap_servers, created_topic) as reader:
            await reader.wait_for(
                lambda r: any(v["lead_id"] == lead_id for v in reader.values()),
                timeout_s=30,
                what="the lead to flow to lead.created after the reconnect",
            )


async def test_webhooks_queued_behind_a_stalled_broker_answer_503_within_the_timeout(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    """The broker freezes (SIGSTOP) with six times more webhooks in flight than the pool
    has connections. Each is answered 503 within its deadline — the ones that queued for
    a connection too (a deadline on the ack alone answered the last of them after six
    deadlines, and with 202 if the broker had thawed by then); the senders' retries are
    accepted once it is back, each lead once. The bound checked is the contract (3x the
    deadline, for a noisy machine), not a speed."""
    port = free_port()
    broker = EmbeddedKafka(port=port).start()
    settings = ready.model_copy(
        update={
            "kafka_bootstrap_servers": broker.bootstrap_servers,
            "broker_ack_timeout_s": 1.0,
            "db_pool_size": 2,
            "db_pool_max_overflow": 0,
        }
    )
    try:
        await ensure_topics(broker.bootstrap_servers, SPECS, name_prefix=settings.topic_prefix)
        with TestClient(create_app(settings)) as client:
            acme = kit.provision(client, make_slug("acme"))
            warm_raw, warm_headers = kit.signed(acme.secret, {"email": "warm@corp.example"})
            assert client.post(acme.url, content=warm_raw, headers=warm_headers).status_code == 202
            signed = [kit.signed(acme.secret, {"email": f"s{n}@corp.example"}) for n in range(12)]

            def send(webhook: tuple[bytes, dict[str, str]]) -> tuple[Any, float]:
                started = time.monotonic()
                answer = client.post(acme.url, content=webhook[0], headers=webhook[1])
                return answer, time.monotonic() - started

            assert broker.pid is not None
            os.kill(broker.pid, signal.SIGSTOP)
            try:
                with ThreadPoolExecutor(len(signed)) as pool:
                    timed = list(pool.map(send, signed))
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            frozen = [answer for answer, _ in timed]
            assert [a.status_code for a in frozen] == [503] * len(signed), [a.text for a in frozen]
            assert max(took for _, took in timed) < 3 * settings.broker_ack_timeout_s, timed
            assert all("not acknowledged in time" in a.json()["detail"] for a in frozen)

            async def all_accepted() -> bool:
                answers = [client.post(acme.url, content=r, headers=h) for r, h in signed]
                return all(a.status_code in (200, 202) for a in answers)

            await eventually(all_accepted, timeout_s=30, interval_s=0.5, what="the retries")
            lead_ids = {
                client.post(acme.url, content=r, headers=h).json()["lead_id"] for r, h in signed
            }
            assert len(lead_ids) == len(signed)
    finally:
        broker.stop()
