"""Sign in by pasting a token; the tenant switcher offers only the token's tenants; forms
without the session's CSRF token are refused; sign out; an expired token sends the user
back to sign-in with a message."""

from __future__ import annotations

import re

from playwright.async_api import expect
from servicekit.testing.helpers import eventually


async def test_sign_in_switch_tenant_csrf_sign_out(console, provision) -> None:
    a, b, _other = await provision(), await provision(), await provision()
    page = console.page
    answer = await console.go("/")
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert "default-src 'self'" in (await answer.all_headers())["content-security-policy"]
    await console.shot("sign-in")
    await page.get_by_label("Admin API token (JWT)").fill("not-a-token")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("not a Leadflow token")

    await console.sign_in("manager", [a.slug, b.slug])
    switch = page.get_by_label("Tenant")
    offered = await switch.locator("option").all_inner_texts()
    assert offered == sorted([a.slug, b.slug])  # never the third tenant
    cookie = next(c for c in await page.context.cookies() if c["name"] == "leadflow_session")
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    # Keyboard first: the skip link, then the navigation, with a visible focus ring.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Dashboard")).to_be_focused()
    ring = await page.locator(":focus").evaluate("e => getComputedStyle(e).outlineStyle")
    assert ring != "none"

    await switch.select_option(b.slug)
    await page.get_by_role("button", name="Switch").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(b.slug)

    # A form posted without this session's CSRF token changes nothing.
    forged = await page.request.post(
        console.base + "/tiers", form={"name": "forged", "rate_per_minute": "1"}
    )
    assert forged.status == 403

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await console.go("/routing")
    await expect(page).to_have_url(re.compile(r"/sign-in$"))


async def test_expired_token_returns_to_sign_in_with_a_message(console, provision) -> None:
    tenant = await provision()
    await console.sign_in("viewer", [tenant.slug], ttl_s=3)
    page = console.page

    async def sent_back() -> bool:
        await console.go("/teams")
        return page.url.endswith("/sign-in")

    await eventually(sent_back, timeout_s=15, interval_s=0.5, what="the session to expire")
    await expect(page.get_by_role("alert")).to_contain_text("expired")
