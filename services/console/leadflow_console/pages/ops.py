"""Operator views: teams and reps (presence, capacity), scoring rules with preview, the
work queue (claim, assign), dead letters (inspect, replay, discard) and routing
insights. Each handler reads, calls one service, renders."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow_console.sample import DEFAULTS, SAMPLE_FIELDS, lead_of, sample_of
from leadflow_console.view import View, form_fields, open_view

router = APIRouter()
PRESENCE = ("available", "away", "offline")


# ------------------------------------------------------------------ teams and reps


async def _teams(view: View, status: int = 200) -> Response:
    base = f"/v1/tenants/{view.tenant}"
    teams, load = await asyncio.gather(
        view.get("router", f"{base}/teams", []), view.get("router", f"{base}/reps:load", None)
    )
    reps = await view.get("router", f"{base}/reps", [])
    loads = {r["rep_id"]: r for r in (load or {}).get("reps", [])}
    return view.render(
        "teams.html", status=status, teams=teams, reps=reps, loads=loads, presences=PRESENCE
    )


@router.get("/teams")
async def teams_page(request: Request) -> Response:
    return await _teams(await open_view(request))


@router.post("/reps/{rep_id}/presence")
async def set_presence(rep_id: str, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    ok, _ = await view.send(
        "router",
        "PUT",
        f"/v1/tenants/{view.tenant}/reps/{rep_id}/presence",
        {"presence": form.get("presence")},
    )
    return view.redirect("/teams", "presence") if ok else await _teams(view, 422)


@router.post("/reps/{rep_id}/capacity")
async def set_capacity(rep_id: str, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    text = form.get("capacity", "").strip()
    name = f"capacity-{rep_id}"
    if not text.isdigit():
        view.errors.fields[name] = "Enter a whole number (0 or more)."
        return await _teams(view, 422)
    ok, _ = await view.send(
        "router",
        "PATCH",
        f"/v1/tenants/{view.tenant}/reps/{rep_id}",
        {"capacity": int(text)},
        {"body.capacity": name},
    )
    return view.redirect("/teams", "rep-saved") if ok else await _teams(view, 422)


# ------------------------------------------------------------------ scoring

SCORING_FIELDS = {"body.rules": "rules", "body.weights": "weights", "body.threshold": "threshold"}


async def _scoring(
    view: View, draft: dict[str, str] | None, sample: dict[str, str], preview: Any, status: int
) -> Response:
    base = f"/v1/tenants/{view.tenant}"
    current, versions = await asyncio.gather(
        view.get("scoring", f"{base}/scoring", None),
        view.get("scoring", f"{base}/scoring/versions", None),
    )
    if draft is None:
        draft = {
            "rules": json.dumps((current or {}).get("rules", []), indent=2),
            "weights": json.dumps((current or {}).get("weights", {})),
            "threshold": str((current or {}).get("threshold", 50)),
        }
    return view.render(
        "scoring.html",
        status=status,
        current=current,
        versions=(versions or {}).get("versions", []),
        draft=draft,
        sample=sample,
        preview=preview,
    )


@router.get("/scoring")
async def scoring_page(request: Request) -> Response:
    return await _scoring(await open_view(request), None, dict(DEFAULTS), None, 200)


@router.post("/scoring")
async def scoring_post(request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    sample = sample_of(form)
    draft = {k: form.get(k, "") for k in ("rules", "weights", "threshold")}
    if form.get("action") == "preview":
        lead = lead_of(sample, view.tenant or "")
        ok, scored = await view.send(
            "scoring", "POST", f"/v1/tenants/{view.tenant}/score:preview", lead, SAMPLE_FIELDS
        )
        return await _scoring(view, draft, sample, scored if ok else None, 200 if ok else 422)
    body: dict[str, Any] = {}
    for key in ("rules", "weights"):
        try:
            body[key] = json.loads(draft[key] or "null")
        except json.JSONDecodeError as exc:
            view.errors.fields[key] = f"Not valid JSON ({exc.msg} at line {exc.lineno})."
    if not draft["threshold"].strip().isdigit():
        view.errors.fields["threshold"] = "Enter a whole number from 0 to 100."
    else:
        body["threshold"] = int(draft["threshold"])
    if not view.errors.fields:
        path = f"/v1/tenants/{view.tenant}/scoring"
        ok, _ = await view.send("scoring", "PUT", path, body, SCORING_FIELDS)
        if ok:
            return view.redirect("/scoring", "scoring-saved")
    return await _scoring(view, draft, sample, None, 422)


# ------------------------------------------------------------------ work queue


async def _queue(view: View, status: int = 200) -> Response:
    base = f"/v1/tenants/{view.tenant}"
    items, reps = await asyncio.gather(
        view.get("router", f"{base}/work-queue", [], status="open"),
        view.get("router", f"{base}/reps", []),
    )
    return view.render("work_queue.html", status=status, items=items, reps=reps)


@router.get("/work-queue")
async def queue_page(request: Request) -> Response:
    return await _queue(await open_view(request))


@router.post("/work-queue/{item_id}/claim")
async def claim(item_id: uuid.UUID, request: Request) -> Response:
    view = await open_view(request)
    ok, _ = await view.send("router", "POST", f"/v1/work-queue/{item_id}:claim")
    return view.redirect("/work-queue", "claimed") if ok else await _queue(view, 422)


@router.post("/work-queue/{item_id}/assign")
async def assign(item_id: uuid.UUID, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    ok, _ = await view.send(
        "router",
        "POST",
        f"/v1/work-queue/{item_id}:assign",
        {"rep_id": form.get("rep_id", "")},
        {"body.rep_id": f"assign-{item_id}"},
    )
    return view.redirect("/work-queue", "assigned") if ok else await _queue(view, 422)


# ------------------------------------------------------------------ dead letters


@router.get("/dead-letters")
async def dead_letters_page(request: Request) -> Response:
    view = await open_view(request)
    status = request.query_params.get("status") or "pending"
    status = status if status in ("pending", "replayed", "discarded") else "pending"
    page = await view.get(
        "dlq", "/v1/dead-letters", {"items": []}, tenant=view.tenant, status=status, limit=100
    )
    return view.render("dead_letters.html", items=page["items"], shown=status)


async def _letter(view: View, letter_id: uuid.UUID, status: int = 200) -> Response:
    letter = await view.get("dlq", f"/v1/dead-letters/{letter_id}", None)
    return view.render("dead_letter.html", status=status, letter=letter)


@router.get("/dead-letters/{letter_id}")
async def dead_letter_page(letter_id: uuid.UUID, request: Request) -> Response:
    return await _letter(await open_view(request), letter_id)


@router.post("/dead-letters/{letter_id}/replay")
async def replay(letter_id: uuid.UUID, request: Request) -> Response:
    view = await open_view(request)
    ok, _ = await view.send("dlq", "POST", f"/v1/dead-letters/{letter_id}:replay")
    if ok:
        return view.redirect(f"/dead-letters/{letter_id}", "replayed")
    return await _letter(view, letter_id, 422)


@router.post("/dead-letters/{letter_id}/discard")
async def discard(letter_id: uuid.UUID, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    ok, _ = await view.send(
        "dlq",
        "POST",
        f"/v1/dead-letters/{letter_id}:discard",
        {"reason": form.get("reason", "")},
        {"body.reason": "reason"},
    )
    if ok:
        return view.redirect(f"/dead-letters/{letter_id}", "discarded")
    return await _letter(view, letter_id, 422)


# ------------------------------------------------------------------ routing insights


@router.get("/insights")
async def insights_page(request: Request) -> Response:
    view = await open_view(request)
    base = f"/v1/tenants/{view.tenant}"
    team = request.query_params.get("team") or None
    days = request.query_params.get("days", "7")
    days = days if days in ("1", "7", "30") else "7"
    teams = await view.get("router", f"{base}/teams", [])
    team = team if team in {t["team_id"] for t in teams} else None
    params: dict[str, Any] = {"team_id": team} if team else {}
    params["since"] = (datetime.now(UTC) - timedelta(days=int(days))).isoformat()
    insight = await view.get("router", f"{base}/routing-insights", None, **params)
    return view.render("insights.html", teams=teams, team=team, days=days, insight=insight)
