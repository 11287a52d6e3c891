"""Broker down → 503 (never a 202 that could be lost); broker back → the retry flows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
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
            assert down.json()["type"].endswith("/broker-unavailable")
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
            assert f'outcome="broker_unavailable",source="generic",tenant="{acme.slug}"' in metrics
    finally:
        broker.stop()
