"""The router's domain vocabulary: teams, reps, their live load, and a decision.

Plain frozen dataclasses, no I/O. Candidates and the strategy/reason literals are the
public contract's (``leadflow_contracts.routing``), so a decision serializes into
``lead.assigned`` / ``lead.routing_failed`` without translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

from leadflow_contracts.routing import Candidate, RoutingFailureReason, Strategy

Presence = Literal["available", "away", "offline"]
#: What a team can be configured with; ``manual`` is only ever a manager's act.
TeamStrategy = Literal["account_owner", "least_loaded", "weighted_round_robin"]
FallbackStrategy = Literal["least_loaded", "weighted_round_robin"]


@dataclass(frozen=True)
class Shift:
    """One working window in the rep's local time; ``end <= start`` runs past midnight."""

    start: time
    end: time


@dataclass(frozen=True)
class Rep:
    """A sales rep. ``working_hours`` maps ISO weekday (1 = Monday … 7 = Sunday) to shifts;
    ``None`` means no schedule (always inside working hours)."""

    rep_id: str
    skills: frozenset[str] = frozenset()
    capacity: int = 10
    weight: int = 1
    time_zone: str = "UTC"
    working_hours: Mapping[int, tuple[Shift, ...]] | None = None
    presence: Presence = "available"
    active: bool = True


@dataclass(frozen=True)
class RepLoad:
    """A rep as the router sees them at decision time, in one team.

    ``credit`` is the rep's smooth-weighted-round-robin counter in this team (the
    persistent rotation pointer); ``last_assigned_at`` breaks ties (longest ago wins).
    """

    rep: Rep
    open_assignments: int = 0
    last_assigned_at: datetime | None = None
    credit: int = 0


@dataclass(frozen=True)
class Team:
    team_id: str
    strategy: TeamStrategy = "least_loaded"
    #: Used by ``account_owner`` teams when the lead has no eligible owner.
    fallback_strategy: FallbackStrategy = "least_loaded"
    required_skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TeamState:
    team: Team
    reps: tuple[RepLoad, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What ``route`` decided. Exactly one of ``rep_id`` and ``failure`` is set.

    ``credits`` holds the team's new rotation counters (only for weighted round robin)
    that the caller persists together with the assignment.
    """

    rules_version: int
    team_id: str | None
    rule_id: str | None
    candidates: tuple[Candidate, ...]
    rep_id: str | None = None
    strategy: Strategy | None = None
    failure: RoutingFailureReason | None = None
    detail: str | None = None
    credits: Mapping[str, int] = field(default_factory=dict)

    @property
    def assigned(self) -> bool:
        return self.rep_id is not None
