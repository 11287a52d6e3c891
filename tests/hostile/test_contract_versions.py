"""An envelope with a schema version no consumer knows is dead-lettered with the reason,
by every consumer of its topic — never read as version 1 (a lead was assigned from one)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from leadflow_contracts.examples import load_example
from leadflow_contracts.topics import LEAD_QUALIFIED
from servicekit.testing.helpers import eventually

from fuzz.targets import Served
from tests.hostile.conftest import Api


async def test_unknown_schema_version_is_dead_lettered_by_router_and_audit(
    served: Served, api: dict[str, Api]
) -> None:
    run = served.run
    envelope: dict[str, Any] = load_example(LEAD_QUALIFIED.event_type, 1)
    lead_id = uuid.uuid4()
    envelope |= {"event_id": str(uuid.uuid4()), "schema_version": 99, "tenant_id": run.tenant}
    envelope["lead_id"] = str(lead_id)
    envelope["payload"]["lead"] |= {"lead_id": str(lead_id), "tenant_id": run.tenant}
    producer = AIOKafkaProducer(bootstrap_servers=run.kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            run.prefix + LEAD_QUALIFIED.name,
            orjson.dumps(envelope),
            key=str(lead_id).encode(),
            headers=[("event-type", b"lead.qualified"), ("schema-version", b"99")],
        )
    finally:
        await producer.stop()

    async def dead_letters() -> list[dict[str, Any]]:
        response = await asyncio.to_thread(
            api["dlq"].call, "GET", "/v1/dead-letters", params={"topic": LEAD_QUALIFIED.name}
        )
        items = [i for i in response.json()["items"] if i["lead_id"] == str(lead_id)]
        return items if len(items) >= 2 else []

    found = await eventually(dead_letters, timeout_s=60, what="both consumers' dead letters")
    assert {i["consumer_group"].split("-")[0] for i in found} >= {"router", "audit"}
    for item in found:
        assert item["exception_class"].endswith("InvalidMessage")
        assert "schema_version 99" in item["exception_message"]
        assert "reads 1" in item["exception_message"]
    assignments = api["router"].call(
        "GET", f"/v1/tenants/{run.tenant}/assignments", params={"lead_id": str(lead_id)}
    )
    assert assignments.json() == []
    timeline = api["audit"].call("GET", f"/v1/leads/{lead_id}/timeline")
    assert timeline.status_code == 404 or timeline.json().get("events") == []
