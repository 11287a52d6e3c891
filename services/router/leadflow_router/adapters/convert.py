"""Rows ⇄ domain objects (the JSON shapes stored in JSONB columns live here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from fastapi.encoders import jsonable_encoder

from leadflow_router.domain.model import Rep, Shift, Team
from leadflow_router.domain.rules import Condition, RoutingRule, RuleSet

#: Stored and accepted as ``{"mon": [["09:00", "17:00"]], …}``.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def working_hours(raw: Mapping[str, Any] | None) -> dict[int, tuple[Shift, ...]] | None:
    if raw is None:
        return None
    return {
        WEEKDAYS.index(day) + 1: tuple(
            Shift(time.fromisoformat(start), time.fromisoformat(end)) for start, end in shifts
        )
        for day, shifts in raw.items()
    }


def rep_of(row: Mapping[Any, Any]) -> Rep:
    return Rep(
        rep_id=row["rep_id"],
        skills=frozenset(row["skills"]),
        capacity=row["capacity"],
        weight=row["weight"],
        time_zone=row["time_zone"],
        working_hours=working_hours(row["working_hours"]),
        presence=row["presence"],
        active=row["active"],
    )


def team_of(row: Mapping[Any, Any]) -> Team:
    return Team(
        team_id=row["team_id"],
        strategy=row["strategy"],
        fallback_strategy=row["fallback_strategy"],
        required_skills=frozenset(row["required_skills"]),
    )


def rules_of(version: int, rules: list[dict[str, Any]], default_team: str | None) -> RuleSet:
    return RuleSet(
        version=version,
        rules=tuple(
            RoutingRule(
                rule_id=rule["rule_id"],
                team_id=rule["team_id"],
                conditions=tuple(
                    Condition(c["field"], c["op"], c.get("value")) for c in rule["conditions"]
                ),
                required_skills=frozenset(rule.get("required_skills", [])),
            )
            for rule in rules
        ),
        default_team=default_team,
    )


def public(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A row as JSON-ready values (for responses and ``config.changed`` snapshots)."""
    if row is None:
        return None
    encoded: dict[str, Any] = jsonable_encoder(dict(row))
    return encoded
