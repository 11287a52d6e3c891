"""Request bodies of the admin API (responses are the stored rows, JSON-encoded)."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow_contracts.lead import Lead
from leadflow_contracts.scoring import LeadScored
from pydantic import ConfigDict, Field, field_validator
from servicekit.inputs import INT4_MAX, Body, JsonValue, Key, Name

from leadflow_router.domain.model import FallbackStrategy, Presence, TeamStrategy
from leadflow_router.domain.rules import FIELDS, Operator

SLUG = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Body(Body):
    model_config = ConfigDict(extra="forbid")


class TeamFields(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    strategy: TeamStrategy | None = None
    fallback_strategy: FallbackStrategy | None = None
    required_skills: list[Key] | None = Field(default=None, max_length=100)


class TeamIn(TeamFields):
    team_id: str = Field(pattern=SLUG)
    strategy: TeamStrategy = "least_loaded"
    fallback_strategy: FallbackStrategy = "least_loaded"
    required_skills: list[Key] = Field(default_factory=list, max_length=100)


def _check_hours(hours: dict[str, list[tuple[str, str]]] | None) -> Any:
    for shifts in (hours or {}).values():
        for start, end in shifts:
            time.fromisoformat(start)  # ValueError → 422 with the field path
            time.fromisoformat(end)
    return hours


class RepFields(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    team_ids: list[Name] | None = Field(default=None, max_length=100)
    skills: list[Key] | None = Field(default=None, max_length=100)
    capacity: int | None = Field(default=None, ge=0, le=INT4_MAX)
    weight: int | None = Field(default=None, ge=1, le=1000)
    time_zone: Key | None = None
    #: ``{"mon": [["09:00", "17:00"]], …}`` in the rep's time zone; null = no schedule.
    working_hours: dict[Weekday, list[tuple[str, str]]] | None = None
    presence: Presence | None = None
    active: bool | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        return _check_hours(value)


class RepIn(RepFields):
    rep_id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    team_ids: list[Name] = Field(default_factory=list, max_length=100)
    skills: list[Key] = Field(default_factory=list, max_length=100)
    capacity: int = Field(default=10, ge=0, le=INT4_MAX)
    weight: int = Field(default=1, ge=1, le=1000)
    time_zone: Key = "UTC"
    presence: Presence = "available"
    active: bool = True


class PresenceIn(_Body):
    presence: Presence


class ConditionIn(_Body):
    field: str = Field(max_length=64)
    op: Operator = "eq"
    value: JsonValue = None

    @field_validator("field")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in FIELDS:
            raise ValueError(f"unknown field {value!r}; known: {', '.join(sorted(FIELDS))}")
        return value


class RuleIn(_Body):
    rule_id: str = Field(min_length=1, max_length=100)
    team_id: str = Field(pattern=SLUG)
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=100)
    required_skills: list[Key] = Field(default_factory=list, max_length=100)


class RulesIn(_Body):
    rules: list[RuleIn] = Field(default_factory=list, max_length=1000)
    default_team: str | None = Field(default=None, pattern=SLUG)


class AssignIn(_Body):
    rep_id: Name


class PreviewIn(Body):
    """Like ``lead.qualified``'s payload; ``score`` may also be just the total.
    ``rules``, when given, is a draft rule set the preview uses instead of the stored one
    (an editor shows what saving it would do)."""

    lead: Lead
    score: LeadScored | int = Field(union_mode="left_to_right")
    rules: RulesIn | None = None

    @property
    def total(self) -> int:
        return self.score if isinstance(self.score, int) else self.score.score
