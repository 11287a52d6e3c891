"""A viewer sees read-only pages without edit controls, and a change forced past the
page is refused by the service; a console whose dlq is unreachable shows a banner on
the page that needs it while every other page keeps working."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from leadflow_console.app import create_app
from leadflow_console.settings import Settings
from playwright.async_api import expect
from servicekit.testing.helpers import eventually


async def test_a_viewer_cannot_edit(console, provision, api) -> None:
    tenant = await provision()
    team = await api.create_team(tenant.slug, "view", strategy="least_loaded")
    rep = await api.create_rep(tenant.slug, "vic", team)
    await api.put_routing_rules(tenant.slug, default_team=team)
    await console.sign_in("viewer", [tenant.slug])
    page = console.page

    await console.go("/routing")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(tenant.slug)
    for label in ("Save as new version", "Add rule"):
        await expect(page.get_by_role("button", name=label)).to_have_count(0)
    await expect(page.get_by_label("Default team (when no rule matches)")).to_be_disabled()
    await expect(page.get_by_role("button", name="Preview the draft")).to_be_visible()
    await console.shot("viewer-routing-rules")
    await console.go("/teams")
    await expect(page.get_by_role("button", name=re.compile("^Set"))).to_have_count(0)
    await console.go("/webhooks")
    await expect(page.get_by_text("managed by the tenant's managers")).to_be_visible()
    await console.go("/tiers")
    await expect(page.get_by_role("button", name="Create tier")).to_have_count(0)

    # Past the page, with a valid CSRF token: the console says no, and so does the router.
    csrf = await page.locator("input[name=csrf]").first.input_value()
    saved = await page.request.post(
        console.base + "/routing", form={"csrf": csrf, "action": "save", "rules-count": "0"}
    )
    assert saved.status == 403
    forced = await page.request.post(
        console.base + f"/reps/{rep}/presence", form={"csrf": csrf, "presence": "away"}
    )
    assert forced.status == 422
    assert "needs role &#39;operator&#39; or higher" in await forced.text()
    [stored] = await api.json("router", "GET", f"/v1/tenants/{tenant.slug}/reps")
    assert stored["presence"] == "available"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def console_without_dlq(deployment: Any) -> AsyncIterator[str]:
    """A second console process-in-a-task on the same stack, its dlq URL a closed port."""
    port = _free_port()
    urls = {f"{s}_url": u for s, u in deployment.urls.items() if s != "console"}
    settings = Settings(
        dev_mode=True,
        admin_jwt_secret=deployment.jwt_secret,
        http_port=port,
        **(urls | {"dlq_url": f"http://127.0.0.1:{_free_port()}"}),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, timeout_s=20, what="the second console to listen")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_service_that_is_down_shows_a_banner(
    console, console_without_dlq, provision
) -> None:
    tenant = await provision()
    console.base = console_without_dlq
    await console.sign_in("operator", [tenant.slug])
    page = console.page
    await console.go("/dead-letters")
    banner = page.get_by_role("alert").filter(has_text="dlq is unavailable")
    await expect(banner).to_contain_text("not reachable")
    await console.shot("service-down-banner")
    await console.go("/routing")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(tenant.slug)
    await expect(page.get_by_text("is unavailable")).to_have_count(0)
