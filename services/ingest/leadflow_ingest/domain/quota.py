"""Rate and quota windows: fixed UTC calendar windows (a minute, a month).

A request counts against both windows of its tenant; the counters live in the database
so every replica shares them. ``Retry-After`` is the time until the window that is full
rolls over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Windows:
    minute: str
    month: str
    seconds_to_next_minute: int
    seconds_to_next_month: int


def windows(now: datetime) -> Windows:
    now = now.astimezone(UTC)
    minute_start = now.replace(second=0, microsecond=0)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return Windows(
        minute="m" + minute_start.strftime("%Y-%m-%dT%H:%M"),
        month="M" + month_start.strftime("%Y-%m"),
        seconds_to_next_minute=max(
            1, math.ceil((minute_start + timedelta(minutes=1) - now).total_seconds())
        ),
        seconds_to_next_month=max(1, math.ceil((next_month - now).total_seconds())),
    )
