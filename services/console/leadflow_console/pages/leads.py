"""Lead search (id, email, phone or correlation id) and a lead's timeline: every event
with what it says, the score's reasons and the routing decision — "why this rep"."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow_console.view import View, open_view

router = APIRouter()


def kind_of(query: str) -> str:
    """What a search box entry is: ``lead_id``, ``email``, ``phone`` or ``correlation_id``."""
    try:
        uuid.UUID(query)
    except ValueError:
        pass
    else:
        return "lead_id"
    if "@" in query:
        return "email"
    digits = query.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if digits.lstrip("+").isdigit() and len(digits) >= 6:
        return "phone"
    return "correlation_id"


async def _search(view: View, query: str, kind: str) -> list[dict[str, Any]]:
    if kind == "lead_id":
        return [{"lead_id": query}]
    if kind in ("email", "phone"):
        found = await view.get("ingest", f"/v1/tenants/{view.tenant}/leads", [], **{kind: query})
        return [{"lead_id": x["lead_id"], "lead": x} for x in found]
    events = await view.get("audit", "/v1/events", {"events": []}, correlation_id=query)
    ids = dict.fromkeys(e["lead_id"] for e in events["events"] if e.get("lead_id"))
    return [{"lead_id": lead_id} for lead_id in ids]


@router.get("/leads")
async def leads_page(request: Request) -> Response:
    view = await open_view(request)
    query = request.query_params.get("q", "").strip()[:320]
    kind = kind_of(query) if query else ""
    results = await _search(view, query, kind) if query and view.tenant else []
    if len(results) == 1 and kind in ("lead_id", "correlation_id"):
        return view.redirect(f"/leads/{results[0]['lead_id']}")
    return view.render("leads.html", query=query, kind=kind, results=results)


def _decision(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The lead's latest routing decision (assignment, reassignment or failure)."""
    for event in reversed(events):
        if event["event_type"] in ("lead.assigned", "lead.reassigned", "lead.routing_failed"):
            return {"event_type": event["event_type"], **(event.get("payload") or {})}
    return None


@router.get("/leads/{lead_id}")
async def lead_page(lead_id: uuid.UUID, request: Request) -> Response:
    view = await open_view(request)
    timeline, lead = await asyncio.gather(
        view.get("audit", f"/v1/leads/{lead_id}/timeline", None),
        view.get("ingest", f"/v1/leads/{lead_id}", None),
    )
    events = timeline["events"] if timeline else []
    scored = next((e for e in reversed(events) if e["event_type"] == "lead.scored"), None)
    decision = _decision(events)
    reps: dict[str, Any] = {}
    if decision and timeline:
        rows = await view.get("router", f"/v1/tenants/{timeline['tenant_id']}/reps", [])
        reps = {r["rep_id"]: r for r in rows}
    return view.render(
        "lead.html",
        lead_id=str(lead_id),
        timeline=timeline,
        lead=lead,
        score=scored["payload"] if scored else None,
        decision=decision,
        reps=reps,
    )
