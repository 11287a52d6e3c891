"""Billing tiers (admin): tiers with their limits; create and edit; assign a tenant to
a tier; each tenant's usage against its quota this period."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow_console.view import View, form_fields, open_view

router = APIRouter()
LIMITS = ("rate_per_minute", "monthly_quota", "sla_minutes")
FIELDS = {f"body.{k}": k for k in ("name", *LIMITS, "features")}
PAGE = 25
EMPTY = {"name": "", "rate_per_minute": "60", "monthly_quota": "10000", "sla_minutes": "30"}


def _body(view: View, form: dict[str, str]) -> dict[str, Any] | None:
    body: dict[str, Any] = {}
    for key in LIMITS:
        text = form.get(key, "").strip()
        if not text.isdigit():
            view.errors.fields[key] = "Enter a whole number (0 or more)."
        else:
            body[key] = int(text)
    try:
        features = json.loads(form.get("features", "").strip() or "{}")
    except json.JSONDecodeError as exc:
        view.errors.fields["features"] = f"Not valid JSON ({exc.msg} at column {exc.colno})."
    else:
        if isinstance(features, dict):
            body["features"] = features
        else:
            view.errors.fields["features"] = (
                'Features must be a JSON object, e.g. {"crm_sync": true}.'
            )
    return None if view.errors.fields else body


async def _list(view: View, draft: dict[str, str], status: int = 200) -> Response:
    tiers = await view.get("ingest", "/v1/tiers", []) if view.can("admin") else []
    tenants = await view.get("ingest", "/v1/tenants", [])
    # The chosen tenant first, then a page of the others: one usage call per row.
    tenants.sort(key=lambda t: (t["slug"] != view.tenant, t["slug"]))
    text = view.request.query_params.get("page", "1")
    page = max(1, int(text)) if text.isdigit() else 1
    shown = tenants[(page - 1) * PAGE : page * PAGE]
    usages = await asyncio.gather(
        *(view.get("ingest", f"/v1/tenants/{t['slug']}/usage", None) for t in shown)
    )
    rows = [{"tenant": t, "usage": u} for t, u in zip(shown, usages, strict=True)]
    more = len(tenants) > page * PAGE
    return view.render(
        "tiers.html", status=status, tiers=tiers, rows=rows, draft=draft, page_no=page, more=more
    )


@router.get("/tiers")
async def tiers_page(request: Request) -> Response:
    view = await open_view(request)
    return await _list(view, dict(EMPTY, features="{}"))


@router.post("/tiers")
async def create_tier(request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    body = _body(view, form)
    if body is not None:
        ok, _ = await view.send(
            "ingest", "POST", "/v1/tiers", {"name": form.get("name", "").strip(), **body}, FIELDS
        )
        if ok:
            return view.redirect("/tiers", "tier-saved")
    return await _list(view, form, status=422)


@router.get("/tiers/{name}")
async def edit_page(name: str, request: Request) -> Response:
    view = await open_view(request)
    tier = await view.get("ingest", f"/v1/tiers/{name}", None)
    draft = {k: str(tier[k]) for k in LIMITS} if tier else dict(EMPTY)
    draft["features"] = json.dumps(tier["features"] if tier else {}, indent=1)
    return view.render("tier_edit.html", name=name, draft=draft, found=tier is not None)


@router.post("/tiers/{name}")
async def update_tier(name: str, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    body = _body(view, form)
    if body is not None:
        ok, _ = await view.send("ingest", "PUT", f"/v1/tiers/{name}", body, FIELDS)
        if ok:
            return view.redirect("/tiers", "tier-saved")
    return view.render("tier_edit.html", status=422, name=name, draft=form, found=True)


@router.post("/tenants/{slug}/tier")
async def assign_tier(slug: str, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    ok, _ = await view.send(
        "ingest",
        "PATCH",
        f"/v1/tenants/{slug}",
        {"tier": form.get("tier", "")},
        {"body.tier": f"assign-{slug}"},
    )
    if ok:
        return view.redirect("/tiers", "tenant-moved")
    return await _list(view, dict(EMPTY, features="{}"), status=422)
