"""Routing rules in the browser: add a rule, see the router's refusal next to the field,
preview a sample lead against the draft, save a new version — and a new signed lead is
routed by it, which the lead's page explains ("why this rep")."""

from __future__ import annotations

from playwright.async_api import expect
from servicekit.testing.helpers import eventually


async def test_create_preview_save_and_a_new_lead_follows_the_rule(console, provision, api) -> None:
    tenant = await provision()
    await api.qualify_everything(tenant.slug)
    dach = await api.create_team(tenant.slug, "dach", strategy="least_loaded")
    rest = await api.create_team(tenant.slug, "rest", strategy="least_loaded")
    dora = await api.create_rep(tenant.slug, "dora", dach)
    await api.create_rep(tenant.slug, "rita", rest)
    await console.sign_in("manager", [tenant.slug], sub="mona")
    page = console.page
    await console.go("/routing")
    await expect(page.get_by_text("No rules yet")).to_be_visible()

    await page.get_by_role("button", name="Add rule").click()
    await page.locator("#rules-0-rule_id").fill("dach-leads")
    await page.locator("#rules-0-team_id").select_option(dach)
    await page.locator("#rules-0-conditions").fill("country in DE, AT\nshoe_size eq 44")
    await page.get_by_label("Default team (when no rule matches)").select_option(rest)
    await page.get_by_role("button", name="Save as new version").click()
    # The router's 422 (field path body.rules.0.conditions.1.field) lands next to the field.
    conditions = page.locator("#rules-0-conditions")
    await expect(conditions).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#rules-0-conditions-error")).to_contain_text("shoe_size")

    await conditions.fill("country in DE, AT\nscore gte 60")
    await page.get_by_label("Country (ISO code)").fill("AT")
    await page.get_by_role("button", name="Preview the draft").click()
    decision = page.locator("#preview-decision")
    await expect(decision).to_contain_text("dach-leads")
    await expect(decision).to_contain_text(dora)
    await console.shot("routing-rules-preview")
    await page.get_by_label("Country (ISO code)").fill("FR")
    await page.get_by_role("button", name="Preview the draft").click()
    await expect(decision).to_contain_text("the default team")
    # The preview stored nothing.
    assert (await api.json("router", "GET", f"/v1/tenants/{tenant.slug}/routing-rules"))[
        "version"
    ] == 0

    # A second rule, moved above the first, then deleted again: the order is the form's.
    await page.get_by_role("button", name="Add rule").click()
    await page.locator("#rules-1-rule_id").fill("scratch")
    await page.locator("#rules-1-team_id").select_option(rest)
    await page.get_by_role("button", name="Move up rule 2").click()
    await expect(page.locator("#rules-0-rule_id")).to_have_value("scratch")
    await expect(page.locator("#rules-1-conditions")).to_have_value(
        "country in DE, AT\nscore gte 60"
    )
    await page.get_by_role("button", name="Delete rule 1").click()
    await expect(page.locator("#rules-0-rule_id")).to_have_value("dach-leads")
    await expect(page.locator("#rules-1-rule_id")).to_have_count(0)

    await page.get_by_role("button", name="Save as new version").click()
    await expect(page.get_by_role("status")).to_contain_text("saved as a new version")
    versions = page.get_by_role("row").filter(has_text="mona")
    await expect(versions).to_contain_text("added dach-leads → dach")
    await console.shot("routing-rules")

    lead_id, _ = await tenant.send_lead(tenant.lead("austria", country="AT"))

    async def assigned() -> list[dict[str, object]]:
        return await api.assignments(tenant.slug, lead_id=str(lead_id))

    [assignment] = await eventually(assigned, timeout_s=60, what="the lead's assignment")
    assert (assignment["team_id"], assignment["rep_id"]) == (dach, dora)

    await console.reload_until(f"/leads/{lead_id}", "#why-this-rep")
    why = page.locator("#why-this-rep")
    await expect(why).to_contain_text(f"Why {dora}")
    await expect(why).to_contain_text("rules version 1")
    await expect(page.get_by_role("heading", name="Score")).to_contain_text("qualified")
    await console.shot("lead-timeline")
