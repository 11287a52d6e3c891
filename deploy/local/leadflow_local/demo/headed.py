"""``leadflow demo-headed``: the demo story walked through the console at a watchable
pace, with a caption per step, recorded as a video and screenshots under
``.data/demo/<UTC time>/``.

It first seeds the story (``run_demo``, idempotent). The demo replays its own poison
record, so the walk makes a fresh pending dead letter per run (the same step below the
API, one new signed lead, then the fix through the scoring API) and replays that one in
the browser."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect
from servicekit.auth import mint_token

from leadflow_local.demo.client import Client
from leadflow_local.demo.poison import store_unloadable_rule_set
from leadflow_local.demo.provision import Provisioner, Secrets
from leadflow_local.demo.run import run_demo
from leadflow_local.demo.story import ACME, GLOBEX, LEADS, SCORING, SOURCE
from leadflow_local.demo.walk import Walk, WalkResult, record, sign_in

SHOWN_LEAD = LEADS[0]  # Jonas Keller of demo-acme: routed by skill to Anna


async def fresh_dead_letter(
    client: Client, secrets: Secrets, scoring_db: str, timeout_s: float
) -> dict[str, Any]:
    """One new pending dead letter of demo-globex: its rule set made unloadable below the
    API, a new lead sent, the dead letter awaited, the rule set restored through the API
    (so only the replay is left, for the console)."""
    slug = GLOBEX.slug
    secret = secrets.get(slug)
    if secret is None:  # seeded by another run with another state file: rotate one
        secret = await Provisioner(client, secrets, lambda _: None).rotate_secret(slug)
    stamp = uuid.uuid4().hex[:8]
    body = {
        "first_name": "Rita",
        "last_name": "Walker",
        "email": f"rita.walker.{stamp}@vandelay.example.com",
        "company": "Vandelay Industries",
        "country": "US",
    }
    await store_unloadable_rule_set(scoring_db, slug)
    try:
        sent = await client.post_webhook(
            slug, SOURCE, body, secret=secret, webhook_id=f"msg_demo_walk_{stamp}"
        )
        if sent.status_code != 202:
            raise RuntimeError(f"the walk's lead answered {sent.status_code}: {sent.text}")
        lead_id = sent.json()["lead_id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            letters = await client.dead_letters(slug, tenant=slug, status="pending", limit=500)
            mine = [d for d in letters if d.get("lead_id") == lead_id]
            if mine:
                return mine[0]
            await asyncio.sleep(0.5)
        raise TimeoutError(f"lead {lead_id} was not dead-lettered within {timeout_s:.0f} s")
    finally:
        await Provisioner(client, secrets, lambda _: None).scoring(slug, SCORING)


def console_walk(base: str, jwt_secret: str, letter: dict[str, Any], secrets: Secrets) -> Any:
    async def walk(w: Walk) -> None:
        page = w.page

        async def signed_in() -> None:
            tenants = [ACME.slug, GLOBEX.slug]
            token = mint_token(jwt_secret, sub="demo-walk", role="admin", tenants=tenants)
            await sign_in(page, base, token)
            await expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")

        async def dashboard() -> None:
            await expect(page.get_by_role("heading", name="Services")).to_be_visible()

        async def lead() -> None:
            await page.goto(f"{base}/leads/{SHOWN_LEAD.lead_id}")
            await expect(page.locator("#why-this-rep")).to_contain_text("Why")
            await expect(page.locator("#why-this-rep")).to_contain_text(
                str(SHOWN_LEAD.expected.rep_id)
            )

        async def rule() -> None:
            await page.goto(base + "/routing")
            await page.locator("#rules-0-conditions").fill("country in DE, AT, CH, NL")
            await w.pause(0.5)
            await page.get_by_label("Country (ISO code)").fill("NL")
            await page.get_by_role("button", name="Preview the draft").click()
            # The default team is dach too: only "by rule dach" shows the edited rule matched.
            await expect(page.locator("#preview-decision")).to_contain_text("by rule dach")

        async def switch_to_globex() -> None:
            await page.locator("#tenant-switch").select_option(GLOBEX.slug)
            await page.get_by_role("button", name="Switch").click()
            await expect(page.locator("#tenant-switch")).to_have_value(GLOBEX.slug)

        async def rotate() -> None:
            await switch_to_globex()
            await page.goto(base + "/webhooks")
            source = page.get_by_role("region", name=f"Source {SOURCE}")
            await source.get_by_label("Grace period for the current secrets (seconds)").fill("3600")
            await source.get_by_role("button", name=f"Rotate {SOURCE}").click()
            shown = page.get_by_role("region", name=f"New secret for {SOURCE} — shown only now")
            new = await shown.get_by_label("Signing secret", exact=False).input_value()
            assert new, "no new secret shown"
            secrets.put(GLOBEX.slug, new)  # make demo signs with the newest secret
            await expect(shown.get_by_role("button", name="Copy secret")).to_be_visible()

        async def replay() -> None:
            await page.goto(f"{base}/dead-letters/{letter['id']}")
            await w.caption("A pending dead letter: the lead failed scoring; the rule set is fixed")
            await w.pause()
            await page.get_by_role("button", name="Replay to sales.lead.created").click()
            await expect(page.get_by_role("status")).to_contain_text("replayed")

        await w.step("sign-in", "Sign in to the console with an admin token", signed_in)
        await w.step("dashboard", "The dashboard: leads per stage, every service", dashboard)
        await w.step(
            "lead", "A lead's timeline, and why the router chose this rep (#why-this-rep)", lead
        )
        await w.step(
            "routing-preview", "Edit a routing rule (add NL) and preview the draft — unsaved", rule
        )
        await w.step(
            "rotate-secret", "Rotate the webhook secret; the old one stays valid 1 h", rotate
        )
        await w.step("replay", "Replay the dead letter to sales.lead.created", replay)

    return walk


async def demo_headed(
    urls: Mapping[str, str],
    jwt_secret: str,
    *,
    scoring_database_url: str,
    state_dir: Path = Path(".data/demo"),
    headless: bool,
    pause_s: float = 2.5,
    slow_mo_ms: float = 250,
    timeout_s: float = 90.0,
    out: Callable[[str], None] = print,
) -> WalkResult:
    """Seeds the story, makes the walk's dead letter, walks the console; the video, the
    screenshots and steps.json land in ``state_dir/<UTC time>/``."""
    base = urls["console"]
    await run_demo(
        urls,
        jwt_secret,
        console_url=base,
        scoring_database_url=scoring_database_url,
        state_dir=state_dir,
        out=out,
        timeout_s=timeout_s,
    )
    secrets = Secrets(state_dir / "secrets.json")
    async with httpx.AsyncClient(timeout=30.0) as http:
        client = Client(urls, jwt_secret, http, sub="leadflow-demo")
        letter = await fresh_dead_letter(client, secrets, scoring_database_url, timeout_s)
    out(f"Dead letter {letter['id']} is pending: walking the console …")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = await record(
        state_dir / stamp,
        console_walk(base, jwt_secret, letter, secrets),
        headless=headless,
        pause_s=pause_s,
        slow_mo_ms=slow_mo_ms,
        say=out,
    )
    passed = sum(s.passed for s in result.steps)
    out(f"{passed}/{len(result.steps)} steps passed; video {result.video}")
    return result
