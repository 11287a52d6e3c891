"""The harness of the console walk (``leadflow demo-headed``): Debian's Chromium through
Playwright, headed when a display exists, a caption over the page for each step, a pause
so a person can follow, one screenshot per step, a video of the whole walk and a step log
(``steps.json``) next to it.

Playwright is imported here only: it is a dev dependency, which ``make`` installs. Its
video recorder runs an ``ffmpeg`` it would download (``playwright install ffmpeg``); the
walk gives it Debian's instead (``apt-get install ffmpeg``), see :func:`use_system_ffmpeg`."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import playwright
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}

#: A fixed band at the top of the page; re-added after every navigation.
CAPTION = """text => {
  let c = document.getElementById('leadflow-demo-caption');
  if (!c) {
    c = document.createElement('div');
    c.id = 'leadflow-demo-caption';
    c.setAttribute('aria-hidden', 'true');
    c.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;' +
      'padding:14px 24px;background:rgba(17,24,39,.88);color:#fff;' +
      'font:600 20px/1.35 system-ui,sans-serif;pointer-events:none';
    document.body.appendChild(c);
  }
  c.textContent = text;
}"""


def use_system_ffmpeg(browsers_dir: Path) -> None:
    """Points Playwright's driver (a child process, which reads PLAYWRIGHT_BROWSERS_PATH)
    at ``browsers_dir``, where its ffmpeg revision is a link to the system's ffmpeg.
    Chromium is unaffected: it is launched by its path."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError(
            "recording the video needs ffmpeg: apt-get install -y ffmpeg (Debian's is used)"
        )
    listing = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    [revision] = [
        b["revision"] for b in json.loads(listing.read_text())["browsers"] if b["name"] == "ffmpeg"
    ]
    link = browsers_dir / f"ffmpeg-{revision}" / "ffmpeg-linux"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(ffmpeg)
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(browsers_dir.resolve())


@asynccontextmanager
async def chromium(headless: bool, executable: str = CHROMIUM, **kw: Any) -> AsyncIterator[Browser]:
    """Debian's Chromium (the pip package brings only Playwright's driver; nothing is
    downloaded), with the flags it needs in a container."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=executable, headless=headless, args=ARGS, **kw
        )
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, base: str, token: str) -> None:
    """Paste ``token`` into the sign-in form, as a user with a minted token does."""
    await page.goto(base + "/sign-in")
    await page.get_by_label("Admin API token (JWT)").fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(base + "/")


@dataclass
class Step:
    name: str
    caption: str
    screenshot: str
    passed: bool
    error: str | None = None


class Walk:
    """One recorded browser context; :meth:`step` runs, captions and shoots one step."""

    def __init__(self, page: Page, out_dir: Path, pause_s: float, say: Callable[[str], None]):
        self.page, self.out_dir, self.pause_s, self.say = page, out_dir, pause_s, say
        self.steps: list[Step] = []

    async def caption(self, text: str) -> None:
        await self.page.evaluate(CAPTION, text)

    async def pause(self, factor: float = 1.0) -> None:
        await self.page.wait_for_timeout(self.pause_s * 1000 * factor)

    async def step(self, name: str, caption: str, act: Callable[[], Awaitable[None]]) -> bool:
        """Runs ``act`` (which navigates, acts and asserts with Playwright's ``expect``),
        then shows ``caption`` and saves the page; a failed step is logged, not raised, so
        the log and the video show how far the walk got."""
        shot = self.out_dir / f"{len(self.steps) + 1:02d}-{name}.png"
        self.say(f"[{len(self.steps) + 1}] {caption}")
        error = None
        try:
            await act()
        except Exception as exc:  # an assertion or a timeout: recorded as the step's result
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            self.say(f"    failed: {error}")
        await self.caption(caption)
        await self.pause()
        await self.page.screenshot(path=str(shot))
        self.steps.append(Step(name, caption, str(shot), error is None, error))
        return error is None

    def write_log(self) -> Path:
        log = self.out_dir / "steps.json"
        log.write_text(json.dumps([asdict(s) for s in self.steps], indent=2) + "\n")
        return log


@dataclass
class WalkResult:
    out_dir: Path
    video: Path | None
    steps: list[Step]

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.passed for s in self.steps)


def headless_default() -> bool:
    """Headed when there is a display to show it on (``DISPLAY``, e.g. from xvfb-run)."""
    return not os.environ.get("DISPLAY")


async def record(
    out_dir: Path,
    walk: Callable[[Walk], Awaitable[None]],
    *,
    headless: bool,
    pause_s: float,
    slow_mo_ms: float,
    say: Callable[[str], None] = print,
) -> WalkResult:
    """Runs ``walk`` in a fresh context recording a video into ``out_dir``."""
    use_system_ffmpeg(out_dir.parent / "playwright")
    async with chromium(headless, slow_mo=slow_mo_ms) as browser:
        context = await browser.new_context(
            viewport=VIEWPORT, record_video_dir=str(out_dir), record_video_size=VIEWPORT
        )
        page = await context.new_page()
        page.set_default_timeout(20_000)
        w = Walk(page, out_dir, pause_s, say)
        try:
            await walk(w)
        finally:
            w.write_log()
            video = page.video
            await context.close()  # the video is complete only once its context is closed
    path = Path(await video.path()) if video else None
    if path is not None:
        path = path.rename(out_dir / "walk.webm")
    return WalkResult(out_dir, path, w.steps)
