"""Routing rules: the ordered rules with conditions and target team; add, edit, delete,
reorder; preview a sample lead against the draft; save as a new version; history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow_console.rules_form import (
    FIELDS,
    OPERATORS,
    PREVIEW_FIELDS,
    Draft,
    apply_action,
    changes,
    draft_from_form,
    draft_of,
    to_body,
)
from leadflow_console.sample import DEFAULTS, SAMPLE_FIELDS, lead_of, sample_of, score_of
from leadflow_console.view import View, form_fields, open_view

router = APIRouter()


async def _page(
    view: View,
    draft: Draft | None,
    sample: dict[str, str],
    preview: Any = None,
    status: int = 200,
) -> Response:
    base = f"/v1/tenants/{view.tenant}"
    versions = await view.get("router", f"{base}/routing-rules/versions", default=[])
    if draft is None:
        stored = versions[0] if versions else {"rules": [], "default_team": None}
        draft = draft_of(stored)
    history = [
        {"version": v, "changes": changes(versions[i + 1] if i + 1 < len(versions) else None, v)}
        for i, v in enumerate(versions)
    ]
    return view.render(
        "routing.html",
        status=status,
        draft=draft,
        teams=await view.get("router", f"{base}/teams", default=[]),
        history=history,
        operators=OPERATORS,
        sample=sample,
        preview=preview,
    )


@router.get("/routing")
async def routing_page(request: Request) -> Response:
    view = await open_view(request)
    if view.tenant is None:
        return view.render("routing.html", draft=Draft(), teams=[], history=[], sample=DEFAULTS)
    return await _page(view, None, dict(DEFAULTS))


async def _preview(view: View, draft: Draft, sample: dict[str, str]) -> Any:
    body, errors = to_body(draft)
    view.errors.fields.update(errors)
    if errors:
        return None
    ok, decision = await view.send(
        "router",
        "POST",
        f"/v1/tenants/{view.tenant}/route:preview",
        {"lead": lead_of(sample, view.tenant or ""), "score": score_of(sample), "rules": body},
        fields=PREVIEW_FIELDS | SAMPLE_FIELDS,
    )
    return decision if ok else None


@router.post("/routing/preview")
async def preview_fragment(request: Request) -> Response:
    """The preview alone (htmx swaps it in next to the editor)."""
    view = await open_view(request)
    form = await form_fields(request)
    sample = sample_of(form)
    decision = await _preview(view, draft_from_form(form), sample)
    return view.render("routing_preview.html", preview=decision, fragment=True)


@router.post("/routing")
async def routing_post(request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    draft, sample = draft_from_form(form), sample_of(form)
    action = form.get("action", "")
    if apply_action(draft, action):
        return await _page(view, draft, sample)
    if action == "preview":
        return await _page(view, draft, sample, preview=await _preview(view, draft, sample))
    if not view.can("manager"):
        view.errors.general.append("Your role cannot change routing rules.")
        return await _page(view, draft, sample, status=403)
    body, errors = to_body(draft)
    view.errors.fields.update(errors)
    if not errors:
        ok, _ = await view.send(
            "router", "PUT", f"/v1/tenants/{view.tenant}/routing-rules", body, fields=FIELDS
        )
        if ok:
            return view.redirect("/routing", "rules-saved")
    return await _page(view, draft, sample, status=422)
