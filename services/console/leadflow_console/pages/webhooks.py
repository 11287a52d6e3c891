"""Webhook secrets (manager of the tenant): per source, the secrets with id, created,
expiry and state — never their values; create (the value shown once, with the webhook
URL), rotate with a grace period, revoke after a confirmation naming what will stop.

A new secret is rendered into the answer of the POST itself, never into a URL or a
redirect, so it appears exactly once and is not kept anywhere by the console.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow_console.view import View, form_fields, open_view

router = APIRouter()


async def _page(view: View, new_secret: Any = None, status: int = 200) -> Response:
    sources: list[dict[str, Any]] = []
    supported: list[dict[str, Any]] = []
    if view.tenant and view.can("manager"):
        base = f"/v1/tenants/{view.tenant}/sources"
        listed: list[dict[str, Any]]
        listed, supported = await asyncio.gather(
            view.get("ingest", base, []), view.get("ingest", "/v1/sources", [])
        )
        secrets = await asyncio.gather(
            *(view.get("ingest", f"{base}/{s['source']}/secrets", []) for s in listed)
        )
        sources = [s | {"secrets": x} for s, x in zip(listed, secrets, strict=True)]
    ingest_url = view.console.upstreams.urls["ingest"]
    return view.render(
        "webhooks.html",
        status=status,
        sources=sources,
        supported=[s["source"] for s in supported],
        new_secret=new_secret,
        webhook_base=f"{ingest_url}/v1/webhooks/{view.tenant}",
    )


@router.get("/webhooks")
async def webhooks_page(request: Request) -> Response:
    return await _page(await open_view(request))


@router.post("/webhooks/sources")
async def add_source(request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    ok, created = await view.send(
        "ingest",
        "POST",
        f"/v1/tenants/{view.tenant}/sources",
        {"source": form.get("source", "")},
        {"body.source": "source"},
    )
    return await _page(view, created if ok else None, status=201 if ok else 422)


@router.post("/webhooks/{source}/rotate")
async def rotate(source: str, request: Request) -> Response:
    view = await open_view(request)
    form = await form_fields(request)
    grace = form.get("grace_seconds", "").strip()
    if not grace.isdigit():
        view.errors.fields[f"grace-{source}"] = "Enter the grace period in seconds (0 or more)."
        return await _page(view, status=422)
    ok, created = await view.send(
        "ingest",
        "POST",
        f"/v1/tenants/{view.tenant}/sources/{source}/secrets:rotate",
        {"grace_seconds": int(grace)},
        {"body.grace_seconds": f"grace-{source}"},
    )
    return await _page(view, created if ok else None, status=201 if ok else 422)


@router.get("/webhooks/{source}/secrets/{secret_id}/revoke")
async def confirm_revoke(source: str, secret_id: str, request: Request) -> Response:
    view = await open_view(request)
    listed = await view.get("ingest", f"/v1/tenants/{view.tenant}/sources/{source}/secrets", [])
    secret = next((s for s in listed if s["secret_id"] == secret_id), None)
    others = [s for s in listed if s["active"] and s["secret_id"] != secret_id]
    url = f"{view.console.upstreams.urls['ingest']}/v1/webhooks/{view.tenant}/{source}"
    return view.render("revoke.html", source=source, secret=secret, others=others, webhook_url=url)


@router.post("/webhooks/{source}/secrets/{secret_id}/revoke")
async def revoke(source: str, secret_id: str, request: Request) -> Response:
    view = await open_view(request)
    path = f"/v1/tenants/{view.tenant}/sources/{source}/secrets/{secret_id}"
    ok, _ = await view.send("ingest", "DELETE", path)
    if ok:
        return view.redirect("/webhooks", "secret-revoked")
    return await _page(view, status=422)
