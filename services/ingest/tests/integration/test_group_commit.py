"""Group commit against the real broker and PostgreSQL: concurrent webhooks accepted in
groups get exactly the answers they would get one by one, every accepted one is on the
topic once, in its own lead's trace."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient
from leadflow_contracts.topics import LEAD_RECEIVED
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from servicekit.testing.helpers import TopicReader


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not in /metrics"
    return float(found.group(1))


async def test_concurrent_webhooks_in_groups_answer_as_one_by_one(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    # One group at a time: webhooks that arrive while it waits for the broker queue and
    # go together in the next one.
    settings = ready.model_copy(update={"webhook_groups_in_flight": 1})
    with TestClient(create_app(settings)) as client:
        tenant = kit.provision(client, make_slug("groups"))
        distinct = [kit.signed(tenant.secret, {"email": f"g{n}@example.com"}) for n in range(40)]
        copy = kit.signed(tenant.secret, {"email": "same@example.com"})
        sends = distinct[:20] + [copy] * 8 + distinct[20:]

        def post(signed: tuple[bytes, dict[str, str]]) -> httpx.Response:
            return client.post(tenant.url, content=signed[0], headers=signed[1])

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(post, sends))
        metrics = client.get("/metrics").text

    fresh = answers[:20] + answers[28:]
    copies = answers[20:28]
    assert [a.status_code for a in fresh] == [202] * 40, [a.text for a in fresh]
    assert len({a.json()["lead_id"] for a in fresh}) == 40
    assert sorted(a.status_code for a in copies) == [200] * 7 + [202]
    assert len({a.json()["lead_id"] for a in copies}) == 1
    # Every request was in exactly one group, and some groups held more than one.
    assert _metric(metrics, "webhook_group_size_sum") == len(sends)
    assert _metric(metrics, "webhook_group_size_count") < len(sends)

    topic = settings.topic_prefix + LEAD_RECEIVED.name
    async with TopicReader(settings.kafka_bootstrap_servers, topic) as reader:
        await reader.wait_for(lambda records: len(records) >= 41, what="41 lead.received")
        records = await reader.drain()
    accepted = {a.json()["lead_id"] for a in answers}
    by_lead = [lead_of(r.value) for r in records]
    assert sorted(by_lead) == sorted(accepted)  # each accepted lead once, nothing else
    for record, lead_id in zip(records, by_lead, strict=True):
        traceparent = dict(record.headers)["traceparent"].decode()
        # The publish span is a child of its own request's span, in the lead's trace.
        assert traceparent.split("-")[1] == lead_id.replace("-", "")


def lead_of(value: bytes) -> str:
    return str(orjson.loads(value)["lead_id"])
