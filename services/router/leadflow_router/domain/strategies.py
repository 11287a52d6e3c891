"""Choosing one rep among the eligible ones.

* least-loaded: fewest open assignments;
* weighted round robin: smooth weighted round robin (the nginx algorithm) over the
  eligible reps, whose per-rep counters (``credit``) are the persistent pointer: every
  eligible rep gains its weight, the highest counter wins and pays back the total
  eligible weight. Over any run with a stable eligible set each rep gets exactly its
  weight share, interleaved rather than in bursts;
* every tie goes to the rep assigned longest ago (never-assigned first), then rep id
  (so a decision is a pure function of its inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from leadflow_router.domain.model import RepLoad

_NEVER = datetime.min.replace(tzinfo=UTC)


def tie_key(load: RepLoad) -> tuple[datetime, str]:
    return (load.last_assigned_at or _NEVER, load.rep.rep_id)


def least_loaded(eligible: Sequence[RepLoad]) -> RepLoad:
    return min(eligible, key=lambda r: (r.open_assignments, *tie_key(r)))


def weighted_round_robin(eligible: Sequence[RepLoad]) -> tuple[RepLoad, dict[str, int]]:
    """The chosen rep and the new counters of the eligible reps."""
    credits = {r.rep.rep_id: r.credit + r.rep.weight for r in eligible}
    chosen = min(eligible, key=lambda r: (-credits[r.rep.rep_id], *tie_key(r)))
    credits[chosen.rep.rep_id] -= sum(r.rep.weight for r in eligible)
    return chosen, credits
