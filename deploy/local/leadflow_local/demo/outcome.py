"""What a lead ended as, read from what the APIs say about it (pure: no I/O).

The audit timeline is the lead's story (every event, in order); the dlq service adds
whether it was ever dead-lettered. ``observe`` turns those into one ``Result`` that can
be compared with the story's ``Expected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from leadflow_local.demo.story import DemoLead, Expected

#: Stages a lead passes on its way to an outcome (not outcomes themselves).
IN_PROGRESS = ("not received", "received", "dead-lettered", "qualified", "in work queue")


@dataclass(frozen=True)
class Result:
    """A lead's state as observed: ``outcome`` is an ``Outcome`` once it reached one,
    else one of ``IN_PROGRESS``."""

    outcome: str
    score: int | None = None
    qualified: bool | None = None
    reasons: tuple[tuple[str, str, int], ...] = ()  # (rule id, description, points)
    rep_id: str | None = None
    team_id: str | None = None
    strategy: str | None = None
    #: The rep who had the lead before an SLA reassignment.
    previous_rep_id: str | None = None
    duplicate_of: str | None = None
    assignment_id: str | None = None

    def top_reasons(self, n: int = 3) -> list[str]:
        ranked = sorted(self.reasons, key=lambda r: (-abs(r[2]), r[0]))[:n]
        return [f"{points:+d} {description}" for _, description, points in ranked]


def _last(events: Sequence[dict[str, Any]], event_type: str) -> dict[str, Any] | None:
    found = [e for e in events if e["event_type"] == event_type]
    return found[-1]["payload"] if found else None


def observe(events: Sequence[dict[str, Any]], dead_letters: Sequence[dict[str, Any]]) -> Result:
    """``events``: the lead's audit timeline (oldest first); ``dead_letters``: the dlq
    service's records of this lead."""
    if not events:
        return Result("not received")
    types = [e["event_type"] for e in events]
    created = _last(events, "lead.created") or {}
    duplicate_of = (created.get("lead") or created).get("duplicate_of")
    scored = _last(events, "lead.scored")
    if scored is None:
        pending = any(d["status"] == "pending" for d in dead_letters)
        return Result("dead-lettered" if pending else "received", duplicate_of=duplicate_of)
    base = Result(
        "qualified",
        score=scored["score"],
        qualified=scored["qualified"],
        reasons=tuple((r["rule_id"], r["description"], r["points"]) for r in scored["reasons"]),
        duplicate_of=str(duplicate_of) if duplicate_of else None,
    )
    if not scored["qualified"]:
        return _with(base, outcome="duplicate" if duplicate_of else "unqualified")
    reassigned = _last(events, "lead.reassigned")
    assigned = _last(events, "lead.assigned")
    if reassigned is not None:
        return _with(
            base,
            outcome="reassigned",
            rep_id=reassigned["rep_id"],
            team_id=reassigned.get("team_id"),
            strategy=reassigned.get("strategy"),
            previous_rep_id=reassigned.get("previous_rep_id"),
            assignment_id=reassigned.get("assignment_id"),
        )
    if assigned is not None:
        if any(d["status"] == "replayed" for d in dead_letters):
            outcome = "dlq_replayed"
        elif "lead.routing_failed" in types:
            outcome = "work_queue_assigned"
        else:
            outcome = "assigned"
        return _with(
            base,
            outcome=outcome,
            rep_id=assigned["rep_id"],
            team_id=assigned.get("team_id"),
            strategy=assigned.get("strategy"),
            assignment_id=assigned.get("assignment_id"),
        )
    if "lead.routing_failed" in types:
        return _with(base, outcome="in work queue")
    return base


def _with(result: Result, **changes: Any) -> Result:
    return replace(result, **changes)


def mismatches(lead: DemoLead, result: Result) -> list[str]:
    """How ``result`` differs from what the story expects of ``lead`` (empty: as told)."""
    want: Expected = lead.expected
    problems = []
    if result.outcome != want.outcome:
        problems.append(f"outcome {result.outcome}, expected {want.outcome}")
    for name in ("rep_id", "team_id", "strategy"):
        wanted, got = getattr(want, name), getattr(result, name)
        if wanted is not None and got != wanted:
            problems.append(f"{name} {got}, expected {wanted}")
    fired = {r[0] for r in result.reasons}
    missing = [r for r in want.reasons if r not in fired]
    if missing:
        problems.append(f"missing score reasons {', '.join(missing)}")
    if want.outcome == "reassigned" and result.previous_rep_id == result.rep_id:
        problems.append("reassigned to the same rep")
    return problems
