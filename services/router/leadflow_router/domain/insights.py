"""Routing insights: is the rotation fair, and why were reps skipped? Pure: it takes the
period's assignments (with the candidates each decision recorded), the candidates of the
decisions that found nobody, and the team's reps.

A rep's *share* is their part of the period's assignments; their *weight share* is their
part of the active reps' weights, what weighted round robin aims at. A *skip* is a
decision that looked at the rep and excluded them for a reason other than "another rep
was picked" (``not_selected``), so the counts answer "how often was Ada passed over
because she was away, out of hours, at capacity or missing a skill".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AssignmentFacts:
    rep_id: str
    team_id: str
    status: str
    sequence: int
    candidates: tuple[Mapping[str, Any], ...]


@dataclass
class RepInsight:
    rep_id: str
    name: str
    weight: int
    active: bool
    assignments: int = 0
    share: float = 0.0
    weight_share: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)
    sla_breaches: int = 0
    reassigned_to: int = 0


def insights(
    facts: Iterable[AssignmentFacts],
    reps: Iterable[Mapping[str, Any]],
    failures: Iterable[Iterable[Mapping[str, Any]]] = (),
) -> dict[str, Any]:
    """``failures``: the candidates of each decision that found nobody (a work item) —
    their skips count too, though no assignment came of them."""
    rows = list(facts)
    failed = [tuple(c) for c in failures]
    by_rep = {
        r["rep_id"]: RepInsight(r["rep_id"], r["name"], r["weight"], r["active"]) for r in reps
    }
    skips: dict[str, Counter[str]] = {rep_id: Counter() for rep_id in by_rep}
    for row in rows:
        rep = by_rep.get(row.rep_id)
        if rep is not None:
            rep.assignments += 1
            rep.sla_breaches += row.status == "breached"
            rep.reassigned_to += row.sequence > 0
    for candidates in [r.candidates for r in rows] + failed:
        for candidate in candidates:
            reason = candidate.get("excluded_reason")
            if reason and reason != "not_selected" and candidate.get("rep_id") in skips:
                skips[candidate["rep_id"]][reason] += 1
    total = len(rows)
    weights = sum(r.weight for r in by_rep.values() if r.active) or 1
    for rep in by_rep.values():
        rep.share = round(rep.assignments / total, 4) if total else 0.0
        rep.weight_share = round(rep.weight / weights, 4) if rep.active else 0.0
        rep.skipped = dict(sorted(skips[rep.rep_id].items()))
    return {
        "total_assignments": total,
        "sla_breaches": sum(r.status == "breached" for r in rows),
        "reassignments": sum(r.sequence > 0 for r in rows),
        "routing_failures": len(failed),
        "skipped": dict(sorted(sum(skips.values(), Counter()).items())),
        "reps": [vars(r) for r in sorted(by_rep.values(), key=lambda r: r.rep_id)],
    }
