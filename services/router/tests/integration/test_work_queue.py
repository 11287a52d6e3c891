"""Nobody eligible → a work-queue item and ``lead.routing_failed``; a rep becoming
available routes the waiting item automatically; a manager claims and assigns another.

Each test starts from ``queued``: two leads nobody could take, both in the work queue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from leadflow_contracts import derived_event_id
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_ASSIGNED, LEAD_ROUTING_FAILED
from leadflow_router.app import create_app
from leadflow_router.settings import Settings
from servicekit.testing.helpers import TopicReader, eventually


@dataclass
class Queued:
    client: TestClient
    reader: TopicReader
    slug: str
    assigned_t: str
    failed_t: str
    config_t: str
    waiting: Any
    manual: Any
    first: Any
    failure: dict[str, Any]
    items: dict[str, dict[str, Any]]


@pytest.fixture
async def queued(ready: Settings, kit: Any, make_slug: Any) -> AsyncIterator[Queued]:
    slug = make_slug("queue")
    p = ready.topic_prefix
    assigned_t, failed_t, config_t = (
        p + LEAD_ASSIGNED.name,
        p + LEAD_ROUTING_FAILED.name,
        p + CONFIG_CHANGED.name,
    )
    with TestClient(create_app(ready)) as client:
        kit.provision(
            client,
            slug,
            {
                "away": {"presence": "away"},
                "full": {"capacity": 0},
                "other": {"presence": "offline"},
            },
        )
        waiting, manual = kit.lead(slug), kit.lead(slug)
        first, second = kit.qualified(waiting), kit.qualified(manual)
        async with TopicReader(
            ready.kafka_bootstrap_servers, assigned_t, failed_t, config_t
        ) as reader:
            await kit.publish(ready, first, second)
            await reader.wait_for(
                lambda r: len([x for x in r if x.topic == failed_t]) == 2, what="two failures"
            )
            failures = {f["lead_id"]: f for f in reader.values(failed_t)}
            queue = client.get(f"/v1/tenants/{slug}/work-queue", headers=kit.auth("viewer", [slug]))
            assert queue.status_code == 200, queue.text
            items = {i["lead_id"]: i for i in queue.json()}
            yield Queued(
                client,
                reader,
                slug,
                assigned_t,
                failed_t,
                config_t,
                waiting,
                manual,
                first,
                failures[str(waiting.lead_id)],
                items,
            )


async def test_nobody_eligible_is_a_failure_naming_why_and_a_work_queue_item(
    queued: Queued,
) -> None:
    failure = queued.failure
    assert failure["event_id"] == str(
        derived_event_id(queued.first.event_id, "lead.routing_failed")
    )
    assert failure["payload"]["reason"] == "no_eligible_rep"
    assert failure["payload"]["team_id"] == "sales"
    assert {c["rep_id"]: c["excluded_reason"] for c in failure["payload"]["candidates"]} == {
        "away": "not_available",
        "full": "at_capacity",
        "other": "not_available",
    }
    items = queued.items
    assert set(items) == {str(queued.waiting.lead_id), str(queued.manual.lead_id)}
    assert items[str(queued.waiting.lead_id)]["item_id"] == failure["payload"]["work_item_id"]


async def test_another_tenants_manager_may_not_see_the_work_queue(queued: Queued, kit: Any) -> None:
    foreign = queued.client.get(
        f"/v1/tenants/{queued.slug}/work-queue", headers=kit.auth("manager", ["other"])
    )
    assert foreign.status_code == 403


async def test_a_returning_rep_gets_the_waiting_item_and_a_claimed_one_is_assigned_by_hand(
    queued: Queued, kit: Any
) -> None:
    client, reader, slug, assigned_t = queued.client, queued.reader, queued.slug, queued.assigned_t
    waiting, manual, failure = queued.waiting, queued.manual, queued.failure
    # A manager claims the second item: the automatic retry leaves it alone.
    manual_item = queued.items[str(manual.lead_id)]["item_id"]
    claimed = client.post(f"/v1/work-queue/{manual_item}:claim", headers=kit.manager)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "claimed"
    gauge = client.get("/metrics").text
    assert 'router_work_queue_items{status="waiting"} 1.0' in gauge
    assert 'router_work_queue_items{status="claimed"} 1.0' in gauge

    # "away" comes back: the waiting item is routed to them, without a new message.
    back = client.put(
        f"/v1/tenants/{slug}/reps/away/presence",
        json={"presence": "available"},
        headers=kit.manager,
    )
    assert back.status_code == 200, back.text
    await reader.wait_for(
        lambda r: any(x.topic == assigned_t for x in r), what="the automatic assignment"
    )
    auto = reader.values(assigned_t)[0]
    assert auto["lead_id"] == str(waiting.lead_id)
    assert auto["payload"]["rep_id"] == "away"
    assert auto["payload"]["strategy"] == "least_loaded"
    assert auto["causation_id"] == failure["event_id"]
    assert auto["correlation_id"] == queued.first.correlation_id

    # The manager assigns their claimed item by hand (even to a rep at capacity).
    url = f"/v1/work-queue/{manual_item}:assign"
    assigned = client.post(url, json={"rep_id": "full"}, headers=kit.manager)
    assert assigned.status_code == 200, assigned.text
    again = client.post(url, json={"rep_id": "other"}, headers=kit.manager)
    assert again.status_code == 409
    await reader.wait_for(
        lambda r: len([x for x in r if x.topic == assigned_t]) == 2,
        what="manual assignment",
    )
    await reader.drain()
    by_hand = reader.values(assigned_t)[1]
    assert by_hand["lead_id"] == str(manual.lead_id)
    assert (by_hand["payload"]["rep_id"], by_hand["payload"]["strategy"]) == ("full", "manual")
    assert by_hand["event_id"] == str(derived_event_id(uuid.UUID(manual_item), "lead.assigned"))
    assert len(reader.values(assigned_t)) == 2
    # Provisioning and the presence change are in the audit record.
    changes = reader.values(queued.config_t)
    assert {(c["payload"]["entity"], c["payload"]["action"]) for c in changes} >= {
        ("team", "created"),
        ("rep", "created"),
        ("rep", "updated"),
        ("routing_rules", "created"),
    }
    assert all(c["tenant_id"] == slug for c in changes)

    async def queue_empty() -> bool:
        response = client.get(f"/v1/tenants/{slug}/work-queue", headers=kit.manager)
        return bool(response.json() == [])

    await eventually(queue_empty, what="an empty work queue")
    history = client.get(
        f"/v1/tenants/{slug}/assignments",
        params={"lead_id": str(waiting.lead_id)},
        headers=kit.manager,
    )
    assert [a["rep_id"] for a in history.json()] == ["away"]
    metrics = client.get("/metrics").text
    assert 'router_work_queue_items{status="waiting"} 0.0' in metrics
    assert 'router_work_queue_items{status="claimed"} 0.0' in metrics
    for path, outcome in (
        ("pipeline", "routing_failed"),
        ("retry", "assigned"),
        ("manual", "assigned"),
    ):
        assert f'router_decisions_total{{outcome="{outcome}",path="{path}"}}' in metrics


async def test_a_claim_is_its_managers_and_a_manual_assignment_names_a_known_rep(
    queued: Queued, kit: Any
) -> None:
    client = queued.client
    item = queued.items[str(queued.manual.lead_id)]["item_id"]
    someone_else = kit.auth("admin")  # another person (sub test-admin) with manager rights
    assert client.post(f"/v1/work-queue/{item}:claim", headers=kit.manager).status_code == 200
    for action, body in ((":claim", None), (":assign", {"rep_id": "full"})):
        taken = client.post(f"/v1/work-queue/{item}{action}", json=body, headers=someone_else)
        assert taken.status_code == 409, taken.text
        assert taken.json()["title"] == "Already claimed"
        assert taken.json()["detail"] == "test-manager claimed this item."

    unknown = client.post(
        f"/v1/work-queue/{item}:assign", json={"rep_id": "nobody"}, headers=kit.manager
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"] == [{"field": "body.rep_id", "message": "unknown rep"}]

    foreign = client.post(
        f"/v1/work-queue/{item}:claim", headers=kit.auth("manager", ["another-tenant"])
    )
    missing = client.post(f"/v1/work-queue/{uuid.uuid4()}:claim", headers=kit.manager)
    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json()["detail"] == f"There is no work item {item!r}."
    listed = client.get(f"/v1/tenants/{queued.slug}/work-queue", headers=kit.manager).json()
    assert {i["item_id"]: i["status"] for i in listed}[item] == "claimed"
