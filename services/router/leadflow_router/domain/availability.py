"""Is a rep reachable at an instant? Presence, active flag and working hours.

Working hours are wall-clock times in the rep's IANA time zone, evaluated with
``zoneinfo`` at the decision instant, so daylight-saving changes move the UTC window
with the local clock (09:00 in New York is 14:00 UTC in January, 13:00 UTC in July).
A shift whose end is not after its start runs past midnight into the next day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadflow_router.domain.model import Rep, Shift


def _inside(shift: Shift, local_time: datetime, *, started_yesterday: bool) -> bool:
    now = local_time.time()
    overnight = shift.end <= shift.start
    if started_yesterday:
        return overnight and now < shift.end
    if overnight:
        return now >= shift.start
    return shift.start <= now < shift.end


def within_working_hours(rep: Rep, at: datetime) -> bool:
    """True when ``at`` (timezone-aware) falls in one of the rep's shifts."""
    if rep.working_hours is None:
        return True
    local = at.astimezone(ZoneInfo(rep.time_zone))
    today = local.isoweekday()
    yesterday = (local - timedelta(days=1)).isoweekday()
    if any(_inside(s, local, started_yesterday=False) for s in rep.working_hours.get(today, ())):
        return True
    return any(
        _inside(s, local, started_yesterday=True) for s in rep.working_hours.get(yesterday, ())
    )
