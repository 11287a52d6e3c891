"""The dashboard: the tenant's pipeline over the last minutes (from the audit trail),
work-queue size, DLQ depth and the readiness of every service."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow_console.settings import UPSTREAMS
from leadflow_console.view import open_view

router = APIRouter()
WINDOW_MIN = 15
STAGES = ("lead.received", "lead.scored", "lead.qualified", "lead.assigned", "lead.routing_failed")


@router.get("/")
async def dashboard(request: Request) -> Response:
    view = await open_view(request)
    upstreams = view.console.upstreams
    ready = dict(
        zip(UPSTREAMS, await asyncio.gather(*map(upstreams.ready, UPSTREAMS)), strict=True)
    )
    for service, (ok, reason) in ready.items():
        if not ok:
            view.down.setdefault(service, reason)
    per_stage: Counter[str] = Counter()
    queue: list[Any] = []
    depth: int | None = None
    if view.tenant:
        base = f"/v1/tenants/{view.tenant}"
        since = datetime.now(UTC) - timedelta(minutes=WINDOW_MIN)
        events: dict[str, Any]
        letters: Any
        events, queue, letters = await asyncio.gather(
            view.get(
                "audit", "/v1/events", {"events": []}, tenant=view.tenant, limit=1000, newest=True
            ),
            view.get("router", f"{base}/work-queue", [], status="open"),
            view.get(
                "dlq", "/v1/dead-letters", None, tenant=view.tenant, status="pending", limit=500
            )
            if view.can("operator")
            else asyncio.sleep(0, None),
        )
        for event in events.get("events", []):
            when = datetime.fromisoformat(event["occurred_at"])
            if when >= since:
                per_stage[event["event_type"]] += 1
        depth = len(letters["items"]) if isinstance(letters, dict) else None
    scored = per_stage["lead.scored"]
    return view.render(
        "dashboard.html",
        ready=ready,
        stages=[(s, per_stage[s], round(per_stage[s] / WINDOW_MIN, 2)) for s in STAGES],
        window=WINDOW_MIN,
        qualified_share=round(100 * per_stage["lead.qualified"] / scored) if scored else None,
        queue_size=len(queue),
        dlq_depth=depth,
    )
