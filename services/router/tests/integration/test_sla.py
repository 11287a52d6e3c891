"""SLA: an unacknowledged assignment past ``sla_due_at`` goes to another rep (never one
who had the lead) with ``lead.sla_breached`` + ``lead.reassigned``; then to the work
queue when nobody is left. The deadline lives in the database: a router restarted
after the assignment still fires it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from leadflow_contracts.topics import (
    LEAD_ASSIGNED,
    LEAD_REASSIGNED,
    LEAD_ROUTING_FAILED,
    LEAD_SLA_BREACHED,
)
from leadflow_router.app import create_app
from leadflow_router.settings import Settings
from servicekit.testing.helpers import TopicReader


async def test_overdue_assignments_are_reassigned_across_a_restart(
    ready: Settings, kit: Any, make_slug: Any, clock: Any
) -> None:
    slug = make_slug("sla")
    p = ready.topic_prefix
    topics = [
        p + s.name for s in (LEAD_ASSIGNED, LEAD_SLA_BREACHED, LEAD_REASSIGNED, LEAD_ROUTING_FAILED)
    ]
    assigned_t, breached_t, reassigned_t, failed_t = topics
    late, acked = kit.lead(slug, sla_minutes=5), kit.lead(slug, sla_minutes=5)
    async with TopicReader(ready.kafka_bootstrap_servers, *topics) as reader:

        def count(topic: str) -> int:
            return len({v["event_id"] for v in reader.values(topic)})

        with TestClient(create_app(ready, clock=clock)) as client:
            kit.provision(client, slug, {"ann": {}, "bob": {}, "cat": {}})
            await kit.publish(ready, kit.qualified(late), kit.qualified(acked))
            await reader.wait_for(lambda r: count(assigned_t) == 2, what="two assignments")
            first = {a["lead_id"]: a["payload"] for a in reader.values(assigned_t)}
            assert first[str(late.lead_id)]["sla_due_at"] == (
                clock.now + timedelta(minutes=5)
            ).isoformat().replace("+00:00", "Z")
            ack_id = first[str(acked.lead_id)]["assignment_id"]
            ack = client.post(f"/v1/assignments/{ack_id}/ack", headers=kit.auth("operator", [slug]))
            assert ack.status_code == 200, ack.text
            assert ack.json()["status"] == "acked"

        clock.now += timedelta(minutes=6)  # the router was down when the SLA expired
        with TestClient(create_app(ready, clock=clock)) as client:
            await reader.wait_for(lambda r: count(reassigned_t) == 1, what="a reassignment")
            breach = reader.values(breached_t)[0]
            moved = reader.values(reassigned_t)[0]
            original = first[str(late.lead_id)]
            assert breach["lead_id"] == moved["lead_id"] == str(late.lead_id)
            assert breach["payload"]["assignment_id"] == original["assignment_id"]
            assert breach["payload"]["rep_id"] == original["rep_id"]
            assert moved["causation_id"] == breach["event_id"]
            assert moved["payload"]["previous_rep_id"] == original["rep_id"]
            assert moved["payload"]["rep_id"] not in (
                original["rep_id"],
                first[str(acked.lead_id)]["rep_id"],
            )
            assert moved["payload"]["reason"] == "sla_breached"
            excluded = {c["rep_id"]: c["excluded_reason"] for c in moved["payload"]["candidates"]}
            assert excluded[original["rep_id"]] == "previously_assigned"
            stale = client.post(
                f"/v1/assignments/{original['assignment_id']}/ack", headers=kit.manager
            )
            assert stale.status_code == 409

            clock.now += timedelta(minutes=6)  # the second rep misses it too
            await reader.wait_for(lambda r: count(reassigned_t) == 2, what="a second reassignment")
            third = reader.values(reassigned_t)[-1]["payload"]
            assert third["rep_id"] not in (original["rep_id"], moved["payload"]["rep_id"])

            clock.now += timedelta(minutes=6)  # nobody left who has not had it
            await reader.wait_for(lambda r: count(failed_t) == 1, what="the lead queued")
            await reader.drain()
            failed = reader.values(failed_t)[0]
            assert failed["payload"]["reason"] == "no_eligible_rep"
            assert {c["excluded_reason"] for c in failed["payload"]["candidates"]} == {
                "previously_assigned"
            }
            assert count(breached_t) == 3
            assert {b["lead_id"] for b in reader.values(breached_t)} == {str(late.lead_id)}
            queue = client.get(f"/v1/tenants/{slug}/work-queue", headers=kit.manager).json()
            assert [(i["lead_id"], i["reason"]) for i in queue] == [
                (str(late.lead_id), "no_eligible_rep")
            ]
            history = client.get(
                f"/v1/tenants/{slug}/assignments",
                params={"lead_id": str(late.lead_id)},
                headers=kit.manager,
            ).json()
            assert [a["status"] for a in history] == ["breached"] * 3
            load = client.get(f"/v1/tenants/{slug}/reps:load", headers=kit.manager).json()
            assert load["total_assignments"] == 4
            assert sum(r["open_assignments"] for r in load["reps"]) == 1  # the acked one
