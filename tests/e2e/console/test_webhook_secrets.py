"""Webhook secrets in the browser: rotate with a grace period (the new value shown once,
with the webhook URL), revoke after a confirmation naming what stops — and webhooks
signed with each secret behave as the page said."""

from __future__ import annotations

from playwright.async_api import expect


async def test_rotate_and_revoke_and_webhooks_follow(console, provision) -> None:
    tenant = await provision()
    old_secret, old_id = tenant.secret, tenant.secret_id
    await console.sign_in("manager", [tenant.slug])
    page = console.page
    await console.go("/webhooks")
    source = page.get_by_role("region", name="Source generic")
    await expect(source.get_by_role("row").filter(has_text=old_id)).to_contain_text("active")

    await source.get_by_label("Grace period for the current secrets (seconds)").fill("3600")
    await source.get_by_role("button", name="Rotate generic").click()
    shown = page.get_by_role("region", name="New secret for generic — shown only now")
    new_secret = await shown.get_by_label("Signing secret", exact=False).input_value()
    assert new_secret.startswith("whsec_")
    url = await shown.get_by_label("Webhook URL").input_value()
    assert url.endswith(f"/v1/webhooks/{tenant.slug}/generic")
    await expect(shown.get_by_role("button", name="Copy secret")).to_be_visible()
    await console.shot("webhook-secret-created")
    grace = page.get_by_role("row").filter(has_text=old_id)
    await expect(grace).to_contain_text("grace")

    # Both sign during the grace period, as the page says.
    assert (
        await tenant.send(tenant.lead("old"), secret=old_secret, expect=None)
    ).status_code == 202
    assert (
        await tenant.send(tenant.lead("new"), secret=new_secret, expect=None)
    ).status_code == 202

    await console.go("/webhooks")
    assert new_secret not in await page.content()  # shown once, never again
    await page.get_by_role("link", name=f"Revoke… secret {old_id}").click()
    confirm = page.get_by_role("group", name="What will stop working")
    await expect(confirm).to_contain_text(f"signed only with secret {old_id}")
    await expect(confirm).to_contain_text("401")
    await expect(confirm).to_contain_text("1 other active secret(s)")
    await console.shot("webhook-secret-revoke")
    await confirm.get_by_role("button", name=f"Revoke secret {old_id}").click()
    await expect(page.get_by_role("status")).to_contain_text("refused from now on")
    await expect(page.get_by_role("row").filter(has_text=old_id)).to_contain_text("revoked")
    await console.shot("webhook-secrets")

    assert (
        await tenant.send(tenant.lead("old2"), secret=old_secret, expect=None)
    ).status_code == 401
    assert (
        await tenant.send(tenant.lead("new2"), secret=new_secret, expect=None)
    ).status_code == 202
