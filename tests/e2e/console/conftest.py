"""Browser journeys through the operator console, against the same stack as the other
journeys (``deployment`` in ``tests/e2e/conftest.py``): Playwright drives Debian's
Chromium (``/usr/bin/chromium``; the pip package brings only its driver, nothing is
downloaded). Every page a journey visits is saved as a screenshot under
``LEADFLOW_CONSOLE_SCREENSHOTS`` (default ``.data/artifacts/console``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from leadflow_local.demo.walk import chromium, sign_in
from servicekit.auth import mint_token
from servicekit.testing.helpers import eventually

CHROMIUM = os.environ.get("LEADFLOW_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("LEADFLOW_CONSOLE_SCREENSHOTS", ".data/artifacts/console"))

#: Visible form controls with no accessible label (neither <label> nor aria-label).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !e.labels.length && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="session")
def console_url(deployment: Any) -> str:
    url = deployment.urls.get("console")
    if url is None:
        pytest.skip("live mode without LEADFLOW_E2E_CONSOLE_URL: no console to drive")
    return str(url)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
            "make test and .ci/run do so when they can"
        )
    async with chromium(headless=True, executable=CHROMIUM) as browser:
        yield browser


class Console:
    """One signed-in browser context on the console, with helpers the journeys share."""

    def __init__(self, page: Any, base: str, secret: str) -> None:
        self.page, self.base, self.secret = page, base, secret

    def token(self, role: str, tenants: list[str], ttl_s: int = 3600, sub: str = "") -> str:
        return mint_token(
            self.secret, sub=sub or f"ui-{role}", role=role, tenants=tenants, ttl_s=ttl_s
        )

    async def sign_in(self, role: str, tenants: list[str], **kw: Any) -> None:
        """Paste a token into the sign-in form, as a user with a minted token does."""
        await sign_in(self.page, self.base, self.token(role, tenants, **kw))

    async def go(self, path: str) -> Any:
        return await self.page.goto(self.base + path)

    async def reload_until(self, path: str, selector: str, timeout_s: float = 60) -> None:
        """Reload ``path`` until ``selector`` shows (the pipeline and the audit trail
        catch up asynchronously)."""

        async def shown() -> bool:
            await self.go(path)
            return bool(await self.page.locator(selector).count())

        await eventually(shown, timeout_s=timeout_s, interval_s=0.5, what=f"{selector} on {path}")

    async def shot(self, name: str, full_page: bool = True) -> None:
        """Save the page (Playwright creates the folder; the file is a test artifact),
        after checking that every visible control of it has a label."""
        unlabelled = await self.page.evaluate(UNLABELLED)
        assert unlabelled == [], f"controls without a label on {name}: {unlabelled}"
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
async def console(browser: Any, console_url: str, deployment: Any) -> AsyncIterator[Console]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield Console(page, console_url, deployment.jwt_secret)
    finally:
        await context.close()
