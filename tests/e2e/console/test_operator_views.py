"""The operator's pages against a live pipeline: a dead letter is inspected, its cause
fixed on the scoring page and replayed, and the lead completes; a lead nobody could
take waits in the work queue and is claimed and assigned by hand; presence and
capacity change; insights, search and the dashboard show what happened."""

from __future__ import annotations

import json

from playwright.async_api import expect
from servicekit.testing.helpers import eventually

QUALIFY_EVERYTHING = [
    {
        "id": "has-email",
        "description": "Gave an email address",
        "category": "fit",
        "points": 100,
        "condition": {"kind": "present", "field": "email"},
    },
    {
        "id": "any-source",
        "description": "Came in through a webhook",
        "category": "engagement",
        "points": 100,
        "condition": {"kind": "present", "field": "source"},
    },
]


async def test_dead_letter_fixed_on_the_scoring_page_and_replayed(
    console, provision, api, unloadable_rule_set
) -> None:
    tenant = await provision()
    await api.qualify_everything(tenant.slug)
    team = await api.create_team(tenant.slug, "poison", strategy="least_loaded")
    rep = await api.create_rep(tenant.slug, "paula", team)
    await api.put_routing_rules(tenant.slug, default_team=team)
    await unloadable_rule_set(tenant.slug)
    lead_id, _ = await tenant.send_lead(tenant.lead("poison"))

    async def pending() -> list[dict[str, object]]:
        return await api.dead_letters(tenant.slug, tenant=tenant.slug, status="pending")

    [item] = await eventually(pending, timeout_s=60, what="the dead letter")
    await console.sign_in("manager", [tenant.slug])
    page = console.page
    await console.go("/dead-letters")
    await expect(page.get_by_role("row").filter(has_text="RuleSetUnavailable")).to_be_visible()
    await console.shot("dead-letters")

    await console.go("/scoring")
    await expect(page.get_by_text("this version cannot be loaded")).to_be_visible()
    await page.get_by_label("Rules (JSON", exact=False).fill("[not json")
    await page.get_by_role("button", name="Save as new version").click()
    await expect(page.locator("#rules-error")).to_contain_text("Not valid JSON")
    await page.get_by_label("Rules (JSON", exact=False).fill(json.dumps(QUALIFY_EVERYTHING))
    await page.get_by_role("button", name="Save as new version").click()
    await expect(page.get_by_role("status")).to_contain_text("Scoring rules saved")
    await page.get_by_role("button", name="Preview score").click()
    await expect(page.locator("#score-preview")).to_contain_text("has-email")
    await console.shot("scoring")

    await page.get_by_role("link", name="Dead letters").click()
    await page.get_by_role("link", name=f"inspect dead letter {item['id']}").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(str(item["id"]))
    await console.shot("dead-letter")
    await page.get_by_role("button", name="Replay to sales.lead.created").click()
    await expect(page.get_by_role("status")).to_contain_text("replayed")
    await expect(page.locator("#dl-status")).to_have_text("replayed")

    async def assigned() -> list[dict[str, object]]:
        return await api.assignments(tenant.slug, lead_id=str(lead_id))

    [assignment] = await eventually(assigned, timeout_s=60, what="the replayed lead's assignment")
    assert assignment["rep_id"] == rep


async def test_work_queue_presence_capacity_insights_search(console, provision, api) -> None:
    tenant = await provision()
    await api.qualify_everything(tenant.slug)
    team = await api.create_team(tenant.slug, "solo", strategy="weighted_round_robin")
    await api.put_routing_rules(tenant.slug, default_team=team)
    sam = await api.create_rep(tenant.slug, "sam", team, presence="away", weight=3)
    lead = tenant.lead("queued")
    lead_id, _ = await tenant.send_lead(lead)

    async def queued() -> list[dict[str, object]]:
        return await api.work_queue(tenant.slug)

    [work_item] = await eventually(queued, timeout_s=60, what="the lead in the work queue")
    await console.sign_in("manager", [tenant.slug])
    page = console.page
    await console.go("/work-queue")
    row = page.get_by_role("row").filter(has_text="no rep available")
    await expect(row).to_be_visible()
    await console.shot("work-queue")
    await row.get_by_role("button", name=f"Claim item {work_item['item_id']}").click()
    await expect(page.get_by_role("status")).to_contain_text("claimed")
    await page.get_by_label(f"Rep for item {work_item['item_id']}").select_option(sam)
    await page.get_by_role("button", name=f"Assign item {work_item['item_id']}").click()
    await expect(page.get_by_role("status")).to_contain_text("assigned")
    await expect(page.get_by_text("The work queue is empty")).to_be_visible()

    await console.go("/teams")
    await page.get_by_label("Presence of Sam").select_option("available")
    await page.get_by_role("button", name="Set presence of Sam").click()
    await expect(page.get_by_role("status")).to_contain_text("Presence changed")
    await expect(page.get_by_label("Presence of Sam")).to_have_value("available")
    await page.get_by_label("Capacity of Sam").fill("-1")
    await page.get_by_role("button", name="Set capacity of Sam").click()
    await expect(page.locator(f"#capacity-{sam}-error")).to_contain_text("whole number")
    await page.get_by_label("Capacity of Sam").fill("7")
    await page.get_by_role("button", name="Set capacity of Sam").click()
    await expect(page.get_by_label("Capacity of Sam")).to_have_value("7")
    await console.shot("teams-reps")

    await console.go("/insights")
    fair = page.get_by_role("row").filter(has_text=sam)
    await expect(fair).to_contain_text("100 %")  # the one assignment, the only weight
    await expect(fair).to_contain_text("not available 1")  # away when the lead came
    await console.shot("routing-insights")

    await console.go("/leads")
    await page.get_by_label("Lead id, email, phone or correlation id (webhook-id)").fill(
        lead["email"].upper()
    )
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=str(lead_id)).click()
    await console.reload_until(f"/leads/{lead_id}", "#why-this-rep")
    await expect(page.locator("#why-this-rep")).to_contain_text("manual")

    await console.go("/")
    await expect(page.get_by_role("row").filter(has_text="lead.routing_failed")).to_contain_text(
        "1"
    )
    await console.shot("dashboard")
    await page.set_viewport_size({"width": 420, "height": 800})
    await console.go("/routing")
    await console.shot("narrow-routing-rules")
