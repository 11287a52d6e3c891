"""Journey 2: a strong lead is scored with its reasons and qualified (and routed); a weak
lead is scored, not qualified, never assigned, and its audit timeline says why."""

from __future__ import annotations

import uuid

from leadflow_contracts import derived_event_id

from tests.e2e.support.evidence import criterion


def _rule(rule_id: str, category: str, points: int, condition: dict, text: str) -> dict:
    return {
        "id": rule_id,
        "description": text,
        "category": category,
        "points": points,
        "condition": condition,
    }


RULES = [
    _rule(
        "title-senior",
        "fit",
        50,
        {"kind": "regex", "field": "title", "pattern": r"\b(vp|vice president|director|head of)\b"},
        "Senior buyer by title",
    ),
    _rule(
        "size-mid",
        "fit",
        40,
        {"kind": "range", "field": "company_size", "min": 200},
        "200+ employees",
    ),
    _rule("free-mail", "fit", -40, {"kind": "free_email"}, "Free-mail address"),
    _rule(
        "corporate-mail",
        "fit",
        10,
        {
            "kind": "all",
            "conditions": [
                {"kind": "present", "field": "email"},
                {"kind": "not", "condition": {"kind": "free_email"}},
            ],
        },
        "Corporate address",
    ),
    _rule(
        "demo-request",
        "engagement",
        70,
        {"kind": "equals", "field": "tags", "value": "demo-request"},
        "Asked for a demo",
    ),
    _rule(
        "paid-traffic",
        "engagement",
        30,
        {"kind": "one_of", "field": "utm.medium", "values": ["paid", "cpc"]},
        "Came from paid traffic",
    ),
    _rule(
        "newsletter",
        "engagement",
        20,
        {"kind": "equals", "field": "tags", "value": "newsletter"},
        "Newsletter sign-up",
    ),
]


def _reasons(payload: dict) -> set[tuple[str, str, int, str]]:
    return {
        (r["rule_id"], r["category"], r["points"], r["description"]) for r in payload["reasons"]
    }


async def test_strong_lead_qualifies_weak_lead_explained_and_never_assigned(
    provision, api, bus, timeline
) -> None:
    tenant = await provision()
    stored = await api.put_scoring(
        tenant.slug, RULES, threshold=60, weights={"fit": 60, "engagement": 40}
    )
    version = stored["version"]
    team = await api.create_team(tenant.slug, "inbound", strategy="least_loaded")
    await api.create_rep(tenant.slug, "rita", team)
    await api.put_routing_rules(tenant.slug, default_team=team)

    strong_id, _ = await tenant.send_lead(
        tenant.lead(
            "strong",
            title="VP of Sales",
            company_size=500,
            tags=["demo-request"],
            utm={"medium": "paid"},
        )
    )
    weak_id, weak_correlation = await tenant.send_lead(
        tenant.lead(
            "weak",
            email="weak.lead@gmail.com",
            title="Student",
            company_size=3,
            tags=["newsletter"],
        )
    )

    # Strong: scored with every fired rule, qualified with the lead snapshot, assigned.
    [created] = await bus.wait("sales.lead.created", lead_id=strong_id)
    [scored] = await bus.wait("lead.scored", lead_id=strong_id)
    [qualified] = await bus.wait("lead.qualified", lead_id=strong_id)
    assert scored.payload | {"reasons": None} == {
        "score": 100,
        "fit": 100,
        "engagement": 100,
        "threshold": 60,
        "qualified": True,
        "reasons": None,
        "rules_version": version,
    }
    assert _reasons(scored.payload) == {
        ("title-senior", "fit", 50, "Senior buyer by title"),
        ("size-mid", "fit", 40, "200+ employees"),
        ("corporate-mail", "fit", 10, "Corporate address"),
        ("demo-request", "engagement", 70, "Asked for a demo"),
        ("paid-traffic", "engagement", 30, "Came from paid traffic"),
    }
    criterion("J2.1")
    cause = created.value["event_id"]
    assert scored.value["causation_id"] == qualified.value["causation_id"] == cause
    assert scored.value["event_id"] == str(derived_event_id(uuid.UUID(cause), "lead.scored"))
    assert qualified.value["event_id"] == str(derived_event_id(uuid.UUID(cause), "lead.qualified"))
    assert qualified.payload["lead"] == created.payload["lead"]
    assert qualified.payload["score"] == scored.payload
    [assigned] = await bus.wait("lead.assigned", lead_id=strong_id)
    assert assigned.value["causation_id"] == qualified.value["event_id"]
    criterion("J2.2")

    # Weak: scored and explained, not qualified.
    [weak_scored] = await bus.wait("lead.scored", lead_id=weak_id)
    assert weak_scored.payload | {"reasons": None} == {
        "score": 8,  # fit: -40 + 0 -> clamped 0; engagement 20; (60*0 + 40*20) / 100
        "fit": 0,
        "engagement": 20,
        "threshold": 60,
        "qualified": False,
        "reasons": None,
        "rules_version": version,
    }
    assert _reasons(weak_scored.payload) == {
        ("free-mail", "fit", -40, "Free-mail address"),
        ("newsletter", "engagement", 20, "Newsletter sign-up"),
    }
    criterion("J2.3")
    # The preview explains exactly what the pipeline emitted, and emits nothing.
    [weak_created] = await bus.wait("sales.lead.created", lead_id=weak_id)
    preview = await api.preview_score(tenant.slug, weak_created.payload["lead"])
    assert preview["scored"] == weak_scored.payload
    assert preview["would_emit"] == ["lead.scored"]
    criterion("J2.4")

    # ... and never qualified, routed or assigned.
    await bus.settle()
    for topic in ("lead.qualified", "lead.assigned", "lead.routing_failed"):
        assert not bus.select(topic, lead_id=weak_id), topic
    assert len(bus.select("lead.scored", lead_id=weak_id)) == 1
    criterion("J2.5")

    story = await timeline(tenant.slug, weak_id, "lead.received", "lead.created", "lead.scored")
    assert story["correlation_id"] == weak_correlation
    assert [e["event_type"] for e in story["events"]] == [
        "lead.received",
        "lead.created",
        "lead.scored",
    ]
    assert story["status"]["stage"] == "not_qualified"
    assert story["status"]["terminal"] is True
    why = story["events"][-1]
    assert "not qualified" in why["summary"]
    assert "free-mail" in why["summary"]
    assert "newsletter" in why["summary"]
    assert why["payload"]["score"] == 8
    assert why["payload"]["threshold"] == 60
    assert _reasons(why["payload"]) == _reasons(weak_scored.payload)
    criterion("J2.6")
