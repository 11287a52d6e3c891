"""The loop shared by the router's timers (SLA, work queue)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from servicekit.logging import error_text, get_logger

log = get_logger(__name__)


async def tick_forever(
    tick: Callable[[], Awaitable[int]], wait: Callable[[], Awaitable[None]], failed: str
) -> None:
    """Run ``tick``, then ``wait``, until cancelled. A failed tick (an outage, a row that
    cannot be handled now) is logged as ``failed`` and tried again after the wait: the
    timer never stops."""
    while True:
        try:
            await tick()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(failed, error=error_text(exc))
        await wait()
