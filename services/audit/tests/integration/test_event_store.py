"""The event store against the real broker and PostgreSQL: one scenario, one app start.

A full journey and a lead stuck after ``lead.qualified`` land as timelines; redelivery
changes nothing; the chain verifies; the service's own role cannot UPDATE or DELETE;
a superuser's tamper is named by ``audit:verify``; poison goes to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
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


async def test_journeys_redelivery_verify_role_and_tamper(
    audit: Any, make_journey: Callable[..., Any], make_config_changed: Any, unique: str
) -> None:
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
    binary = ("x-signature", b"\x8a\xff\x00")
    await audit.runtime.raw_producer.send(
        scored_topic, b"{not json", key=b"poison", headers=[binary]
    )
    expected = len(assigned) + len(stalled) + len(foreign) + 1
    admin = audit.token(["*"], role="admin")

    async def verified_count() -> int:
        body = (await audit.http.get("/v1/audit:verify", headers=admin)).json()
        assert body["ok"], body
        return int(body["count"]) if body["count"] == expected else 0

    await eventually(verified_count, what=f"{expected} events appended")

    # One lead's full journey, in order, with the explanations its payloads carry.
    viewer = audit.token([tenant])
    lead_a = assigned[0][1].lead_id
    timeline = (await audit.http.get(f"/v1/leads/{lead_a}/timeline", headers=viewer)).json()
    types = [e["event_type"] for e in timeline["events"]]
    assert types == [f"lead.{s}" if s != "created" else "lead.created" for s in ALL_STEPS]
    assert [e["event_id"] for e in timeline["events"]] == [str(e.event_id) for _, e in assigned]
    assert timeline["status"]["stage"] == "assigned"
    scored = timeline["events"][2]
    assert scored["payload"]["reasons"][0]["rule_id"] == "fit.title"
    assert "fit.title +30" in scored["summary"]
    assert "rep-2: at_capacity" in timeline["events"][4]["summary"]
    assert {e["trace_id"] for e in timeline["events"]} == {trace_id}

    # Search by correlation id, trace id and tenant (paged by position).
    by_corr = await audit.http.get(
        "/v1/events", params={"correlation_id": f"wh-a-{unique}"}, headers=viewer
    )
    assert len(by_corr.json()["events"]) == len(assigned)
    by_trace = await audit.http.get("/v1/events", params={"trace_id": trace_id}, headers=viewer)
    assert {e["lead_id"] for e in by_trace.json()["events"]} == {str(lead_a)}
    pages: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = (
            await audit.http.get(
                "/v1/events", params={"tenant": tenant, "after": after, "limit": 3}, headers=viewer
            )
        ).json()
        pages.extend(page["events"])
        after = page["next_after"]
    assert len(pages) == len(assigned) + len(stalled) + 1
    assert [p["position"] for p in pages] == sorted(p["position"] for p in pages)
    assert any(p["event_type"] == "config.changed" for p in pages)
    latest = (
        await audit.http.get(
            "/v1/events", params={"tenant": tenant, "limit": 3, "newest": "true"}, headers=viewer
        )
    ).json()
    assert [p["position"] for p in latest["events"]] == [p["position"] for p in pages[::-1][:3]]
    assert latest["next_after"] is None

    # Scoping: another tenant's lead is not found; its events are not listed.
    lead_c = foreign[0][1].lead_id
    assert (await audit.http.get(f"/v1/leads/{lead_c}/timeline", headers=viewer)).status_code == 404
    forbidden = await audit.http.get("/v1/events", params={"tenant": other}, headers=viewer)
    assert forbidden.status_code == 403
    assert (await audit.http.get("/v1/audit:verify")).status_code == 401

    # Stuck: the lead that stopped after lead.qualified, not the assigned one.
    stuck = (
        await audit.http.get("/v1/leads:stuck", params={"older_than": 600}, headers=viewer)
    ).json()
    assert [s["lead_id"] for s in stuck["leads"]] == [str(stalled[0][1].lead_id)]
    assert stuck["leads"][0]["stage"] == "qualified"
    assert stuck["leads"][0]["age_seconds"] > 600
    fresh = await audit.http.get("/v1/leads:stuck", params={"older_than": 7200}, headers=viewer)
    assert fresh.json()["leads"] == []

    # Redelivery: the same events again leave count and chain unchanged.
    head = await _head(audit)
    for spec, envelope in [*assigned, *stalled]:
        await audit.publish(spec, envelope)
    duplicates = len(assigned) + len(stalled)

    async def absorbed() -> bool:
        value = audit.runtime.metrics.registry.get_sample_value(
            "leads_processed_total", {"service": "audit", "outcome": "duplicate"}
        )
        return (value or 0) >= duplicates

    await eventually(absorbed, what="redelivered events absorbed")
    assert await _head(audit) == head
    assert (await audit.http.get("/v1/audit:verify", headers=admin)).json() == {
        "ok": True,
        "count": expected,
    }

    # The poison record went to its DLQ, naming the audit group.
    async with TopicReader(audit.settings.kafka_bootstrap_servers, scored_topic + ".dlq") as r:
        records = await r.wait_for(lambda rs: len(rs) >= 1, what="poison in the DLQ")
    assert binary in records[0].headers  # byte for byte
    dlq_headers = {k: v.decode("utf-8", "replace") for k, v in records[0].headers}
    assert dlq_headers[h.DLQ_CONSUMER_GROUP] == "audit"
    assert dlq_headers[h.DLQ_ORIGINAL_TOPIC] == scored_topic

    # The service's own role can neither UPDATE nor DELETE.
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

    # A superuser bypasses the trigger and edits one row: verify names that position.
    position = scored["position"]
    with psycopg.connect(libpq_url(audit.settings.database_url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE events SET envelope = jsonb_set(envelope, '{payload,score}', '100') "
            "WHERE position = %s",
            (position,),
        )
    broken = (await audit.http.get("/v1/audit:verify", headers=admin)).json()
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
