"""The event store against the real broker and PostgreSQL, each test over the same stored events.

A full journey and a lead stuck after ``lead.qualified`` land as timelines; redelivery
changes nothing; the chain verifies; the service's own role cannot UPDATE or DELETE;
a superuser's tamper is named by ``audit:verify``; poison goes to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from leadflow_contracts import headers as h
from leadflow_contracts import topics as t
from servicekit.db import libpq_url
from servicekit.testing.helpers import TopicReader, eventually
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

ALL_STEPS = ["received", "created", "scored", "qualified", "assigned"]
#: A header value that is not UTF-8, on the poison record.
BINARY_HEADER = ("x-signature", b"\x8a\xff\x00")


@dataclass
class Stored:
    """Three journeys, a config change and a poison record, all appended (or dead-lettered)."""

    tenant: str
    other: str
    assigned: list[Any]
    stalled: list[Any]
    foreign: list[Any]
    trace_id: str
    scored_topic: str
    expected: int
    admin: dict[str, str]
    viewer: dict[str, str]

    async def timeline(self, audit: Any) -> dict[str, Any]:
        lead_a = self.assigned[0][1].lead_id
        response = await audit.http.get(f"/v1/leads/{lead_a}/timeline", headers=self.viewer)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(self, audit: Any, **params: Any) -> dict[str, Any]:
        response = await audit.http.get("/v1/events", params=params, headers=self.viewer)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def stored(
    audit: Any, make_journey: Callable[..., Any], make_config_changed: Any, unique: str
) -> Stored:
    tenant, other = f"acme-{unique}", f"other-{unique}"
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assigned = make_journey(tenant, f"wh-a-{unique}", an_hour_ago, ALL_STEPS)
    stalled = make_journey(tenant, f"wh-b-{unique}", an_hour_ago, ALL_STEPS[:4])
    foreign = make_journey(other, f"wh-c-{unique}", an_hour_ago, ALL_STEPS[:2])
    config = make_config_changed(tenant, f"rule-{unique}", an_hour_ago)
    tracer = audit.runtime.tracer_provider.get_tracer("audit-test")
    with tracer.start_as_current_span("journey") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        for spec, envelope in assigned:
            await audit.publish(spec, envelope)
    for spec, envelope in [*stalled, *foreign, config]:
        await audit.publish(spec, envelope)
    scored_topic = audit.settings.topic_prefix + t.LEAD_SCORED.name
    # Poison from a foreign producer, with a header value that is not UTF-8.
    await audit.runtime.raw_producer.send(
        scored_topic, b"{not json", key=b"poison", headers=[BINARY_HEADER]
    )
    expected = len(assigned) + len(stalled) + len(foreign) + 1
    admin = audit.token(["*"], role="admin")

    async def verified_count() -> int:
        body = (await audit.http.get("/v1/audit:verify", headers=admin)).json()
        assert body["ok"], body
        return int(body["count"]) if body["count"] == expected else 0

    await eventually(verified_count, what=f"{expected} events appended")
    viewer = audit.token([tenant])
    return Stored(
        tenant, other, assigned, stalled, foreign, trace_id, scored_topic, expected, admin, viewer
    )


async def test_a_journey_is_one_timeline_in_order_with_explanations(
    audit: Any, stored: Stored
) -> None:
    timeline = await stored.timeline(audit)
    types = [e["event_type"] for e in timeline["events"]]
    assert types == [f"lead.{s}" if s != "created" else "lead.created" for s in ALL_STEPS]
    assert [e["event_id"] for e in timeline["events"]] == [
        str(e.event_id) for _, e in stored.assigned
    ]
    assert timeline["status"]["stage"] == "assigned"
    scored = timeline["events"][2]
    assert scored["payload"]["reasons"][0]["rule_id"] == "fit.title"
    assert "fit.title +30" in scored["summary"]
    assert "rep-2: at_capacity" in timeline["events"][4]["summary"]
    assert {e["trace_id"] for e in timeline["events"]} == {stored.trace_id}


async def test_events_are_found_by_correlation_id_and_by_trace_id(
    audit: Any, stored: Stored
) -> None:
    correlation_id = stored.assigned[0][1].correlation_id
    by_corr = await stored.events(audit, correlation_id=correlation_id)
    assert len(by_corr["events"]) == len(stored.assigned)
    by_trace = await stored.events(audit, trace_id=stored.trace_id)
    assert {e["lead_id"] for e in by_trace["events"]} == {str(stored.assigned[0][1].lead_id)}


async def test_a_tenants_events_page_by_position_and_newest_first(
    audit: Any, stored: Stored
) -> None:
    pages: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = await stored.events(audit, tenant=stored.tenant, after=after, limit=3)
        pages.extend(page["events"])
        after = page["next_after"]
    assert len(pages) == len(stored.assigned) + len(stored.stalled) + 1
    assert [p["position"] for p in pages] == sorted(p["position"] for p in pages)
    assert any(p["event_type"] == "config.changed" for p in pages)
    latest = await stored.events(audit, tenant=stored.tenant, limit=3, newest="true")
    assert [p["position"] for p in latest["events"]] == [p["position"] for p in pages[::-1][:3]]
    assert latest["next_after"] is None


async def test_another_tenants_lead_and_events_are_hidden(audit: Any, stored: Stored) -> None:
    lead_c = stored.foreign[0][1].lead_id
    timeline = await audit.http.get(f"/v1/leads/{lead_c}/timeline", headers=stored.viewer)
    assert timeline.status_code == 404
    forbidden = await audit.http.get(
        "/v1/events", params={"tenant": stored.other}, headers=stored.viewer
    )
    assert forbidden.status_code == 403
    assert (await audit.http.get("/v1/audit:verify")).status_code == 401


async def test_stuck_names_the_lead_that_stopped_after_qualified(
    audit: Any, stored: Stored
) -> None:
    stuck = (
        await audit.http.get("/v1/leads:stuck", params={"older_than": 600}, headers=stored.viewer)
    ).json()
    assert [s["lead_id"] for s in stuck["leads"]] == [str(stored.stalled[0][1].lead_id)]
    assert stuck["leads"][0]["stage"] == "qualified"
    assert stuck["leads"][0]["age_seconds"] > 600
    fresh = await audit.http.get(
        "/v1/leads:stuck", params={"older_than": 7200}, headers=stored.viewer
    )
    assert fresh.json()["leads"] == []


async def test_redelivered_events_leave_count_and_chain_unchanged(
    audit: Any, stored: Stored
) -> None:
    head = await _head(audit)
    for spec, envelope in [*stored.assigned, *stored.stalled]:
        await audit.publish(spec, envelope)
    duplicates = len(stored.assigned) + len(stored.stalled)

    async def absorbed() -> bool:
        value = audit.runtime.metrics.registry.get_sample_value(
            "leads_processed_total", {"service": "audit", "outcome": "duplicate"}
        )
        return (value or 0) >= duplicates

    await eventually(absorbed, what="redelivered events absorbed")
    assert await _head(audit) == head
    assert (await audit.http.get("/v1/audit:verify", headers=stored.admin)).json() == {
        "ok": True,
        "count": stored.expected,
    }


async def test_poison_goes_to_its_dlq_naming_the_audit_group(audit: Any, stored: Stored) -> None:
    dlq_topic = stored.scored_topic + ".dlq"
    async with TopicReader(audit.settings.kafka_bootstrap_servers, dlq_topic) as r:
        records = await r.wait_for(lambda rs: len(rs) >= 1, what="poison in the DLQ")
    assert BINARY_HEADER in records[0].headers  # byte for byte
    dlq_headers = {k: v.decode("utf-8", "replace") for k, v in records[0].headers}
    assert dlq_headers[h.DLQ_CONSUMER_GROUP] == "audit"
    assert dlq_headers[h.DLQ_ORIGINAL_TOPIC] == stored.scored_topic


async def test_neither_the_service_role_nor_the_owner_can_update_or_delete(
    audit: Any, stored: Stored
) -> None:
    for statement in ("UPDATE events SET tenant_id = 'x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="permission denied for table events"):
            async with audit.runtime.engine.begin() as conn:
                await conn.execute(text(statement))
    # Not even the owner, while the trigger is enabled.
    with (
        psycopg.connect(libpq_url(audit.settings.database_url)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute("DELETE FROM events")


async def test_verify_names_the_position_a_superuser_edited(audit: Any, stored: Stored) -> None:
    # A superuser bypasses the trigger and edits one row.
    position = (await stored.timeline(audit))["events"][2]["position"]
    with psycopg.connect(libpq_url(audit.settings.database_url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE events SET envelope = jsonb_set(envelope, '{payload,score}', '100') "
            "WHERE position = %s",
            (position,),
        )
    broken = (await audit.http.get("/v1/audit:verify", headers=stored.admin)).json()
    assert broken["ok"] is False
    assert broken["first_broken_position"] == position


async def _head(audit: Any) -> tuple[int, str]:
    async with audit.runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT count(*), max(position) FROM events"),
            )
        ).one()
        last = await conn.scalar(text("SELECT row_hash FROM events ORDER BY position DESC LIMIT 1"))
    return int(row[0]), f"{row[1]}:{last}"
