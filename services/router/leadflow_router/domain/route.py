"""``route``: the whole routing decision as one pure function of its inputs.

Order: match a team by the tenant's rules; then, for every rep of that team, the hard
filters in a fixed order (excluded for this lead → inactive → presence → working hours
→ skills → capacity), recording the first reason that excludes each rep; then the team's
strategy among the survivors. The decision time is an argument (no clock here), so the
pipeline, the timers and ``route:preview`` agree whenever their inputs agree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from leadflow_contracts.lead import Lead
from leadflow_contracts.routing import Candidate, ExclusionReason, RoutingFailureReason

from leadflow_router.domain.availability import within_working_hours
from leadflow_router.domain.model import Decision, RepLoad, TeamState
from leadflow_router.domain.rules import Match, RuleSet, match_team
from leadflow_router.domain.strategies import least_loaded, weighted_round_robin

_UNAVAILABLE: frozenset[ExclusionReason] = frozenset(
    {"inactive", "not_available", "outside_working_hours"}
)


def _exclusion(
    load: RepLoad, required: frozenset[str], at: datetime, exclude: Collection[str]
) -> tuple[ExclusionReason, str] | None:
    rep = load.rep
    if rep.rep_id in exclude:
        return "previously_assigned", "already had this lead"
    if not rep.active:
        return "inactive", "rep is deactivated"
    if rep.presence != "available":
        return "not_available", f"presence is {rep.presence}"
    if not within_working_hours(rep, at):
        return "outside_working_hours", f"outside working hours in {rep.time_zone}"
    missing = sorted(required - rep.skills)
    if missing:
        return "missing_skill", "missing " + ", ".join(missing)
    if load.open_assignments >= rep.capacity:
        return "at_capacity", f"{load.open_assignments}/{rep.capacity} open"
    return None


def _failure(reasons: list[ExclusionReason]) -> RoutingFailureReason:
    if not reasons:
        return "team_empty"
    if all(r == "at_capacity" for r in reasons):
        return "all_at_capacity"
    if all(r in _UNAVAILABLE for r in reasons):
        return "no_rep_available"
    return "no_eligible_rep"


def route(
    lead: Lead,
    score: int,
    rules: RuleSet,
    team: TeamState | None,
    *,
    at: datetime,
    account_owner: str | None = None,
    exclude: Collection[str] = (),
) -> Decision:
    """Decide who gets ``lead`` at instant ``at``: ``match_team``, then ``route_matched``."""
    match = match_team(lead, score, rules)
    return route_matched(
        match, rules.version, team, at=at, account_owner=account_owner, exclude=exclude
    )


def route_matched(
    match: Match | None,
    rules_version: int,
    team: TeamState | None,
    *,
    at: datetime,
    account_owner: str | None = None,
    exclude: Collection[str] = (),
) -> Decision:
    """Decide among ``team`` at instant ``at``, the rules having already picked ``match``.

    The pipeline matches each lead once (it needs the match to know which team to load
    and lock) and passes it here. ``team`` must be the state of ``match``'s team; ``None``
    means that team does not exist. ``account_owner`` is the rep who already owns the
    lead's company email domain in this tenant, if any; ``exclude`` are reps who may not
    get this lead again (earlier SLA breaches).
    """
    if match is None or team is None or team.team.team_id != match.team_id:
        detail = "no rule matched and no default team" if match is None else "team not found"
        team_id = None if match is None else match.team_id
        return Decision(rules_version, team_id, None, (), failure="no_team_matched", detail=detail)
    required = team.team.required_skills | match.required_skills
    candidates: dict[str, Candidate] = {}
    eligible: list[RepLoad] = []
    for load in sorted(team.reps, key=lambda r: r.rep.rep_id):
        excluded = _exclusion(load, required, at, exclude)
        candidates[load.rep.rep_id] = Candidate(
            rep_id=load.rep.rep_id,
            excluded_reason=excluded[0] if excluded else None,
            detail=excluded[1] if excluded else None,
            open_assignments=load.open_assignments,
        )
        if excluded is None:
            eligible.append(load)
    base = Decision(rules_version, match.team_id, match.rule_id, tuple(candidates.values()))
    if not eligible:
        reasons = [c.excluded_reason for c in candidates.values() if c.excluded_reason]
        return replace(base, failure=_failure(reasons), detail="nobody eligible")

    strategy = team.team.strategy
    owner = next((r for r in eligible if r.rep.rep_id == account_owner), None)
    credits: dict[str, int] = {}
    if strategy == "account_owner" and owner is not None:
        chosen = owner
    else:
        if strategy == "account_owner":
            strategy = team.team.fallback_strategy
        if strategy == "weighted_round_robin":
            chosen, credits = weighted_round_robin(eligible)
        else:
            chosen = least_loaded(eligible)
    picked = f"{strategy} chose {chosen.rep.rep_id}"
    final = tuple(
        c
        if c.excluded_reason or c.rep_id == chosen.rep.rep_id
        else c.model_copy(update={"excluded_reason": "not_selected", "detail": picked})
        for c in candidates.values()
    )
    return replace(
        base, candidates=final, rep_id=chosen.rep.rep_id, strategy=strategy, credits=credits
    )
