"""Billing tiers in the browser: a refused field is shown next to it; create a tier with
a monthly quota of 2, edit it, assign a tenant to it — the third webhook gets 429, and
the page shows the quota used up."""

from __future__ import annotations

import uuid

from playwright.async_api import expect


async def test_create_tier_assign_tenant_and_hit_the_quota(console, provision) -> None:
    tenant = await provision()
    name = f"ui-{uuid.uuid4().hex[:8]}"
    await console.sign_in("admin", ["*"])
    page = console.page
    await console.go("/tiers")
    await page.locator("#tenant-switch").select_option(tenant.slug)
    await page.get_by_role("button", name="Switch").click()  # its row comes first
    form = page.locator("form", has=page.get_by_role("button", name="Create tier"))
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Rate per minute").fill("100")
    await form.get_by_label("Monthly quota").fill("2")
    await form.get_by_label("SLA minutes").fill("0")  # the service refuses: at least 1
    await form.get_by_label("Features (JSON object)").fill('{"crm_sync": true}')
    await page.get_by_role("button", name="Create tier").click()
    await expect(page.locator("#sla_minutes")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#sla_minutes-error")).to_contain_text("greater than or equal to 1")
    await form.get_by_label("SLA minutes").fill("45")
    await page.get_by_role("button", name="Create tier").click()
    await expect(page.get_by_role("status")).to_contain_text("Tier saved")
    tiers = page.get_by_role("table", name="Tiers")
    await expect(tiers.get_by_role("row").filter(has_text=name)).to_contain_text("45")

    await page.get_by_role("link", name=f"Edit {name}").click()
    await page.get_by_label("SLA minutes").fill("20")
    await page.get_by_role("button", name="Save tier").click()
    await expect(tiers.get_by_role("row").filter(has_text=name)).to_contain_text("20")

    await page.get_by_label(f"Tier for {tenant.slug}").select_option(name)
    await page.get_by_role("button", name=f"Assign {tenant.slug}").click()
    await expect(page.get_by_role("status")).to_contain_text("assigned to the tier")

    codes = [(await tenant.send(tenant.lead(f"q{i}"), expect=None)).status_code for i in range(3)]
    assert codes == [202, 202, 429]
    await console.go("/tiers")
    await expect(page.locator(f"#usage-{tenant.slug}")).to_contain_text("2 of 2")
    row = page.get_by_role("row").filter(has=page.locator(f"#usage-{tenant.slug}"))
    await expect(row).to_contain_text("quota reached")
    await console.shot("billing-tiers", full_page=False)
