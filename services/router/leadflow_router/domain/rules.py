"""Routing rules: an ordered list of conditions on lead fields → team; first match wins.

A rule matches when every one of its conditions holds (an empty list always matches).
Fields a condition can test (see ``facts``): ``country``, ``region`` (``custom.region``
if the upstream sent one, else derived from the country), ``industry``,
``company_size``, ``score`` (for score bands: ``gte``/``lte``), ``source``,
``language``, ``tags``, ``email_domain``, ``title``, ``utm_source``. A missing field
never matches (except ``exists`` = false). Text compares case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from leadflow_contracts.lead import Lead

from leadflow_router.domain.regions import region_of

Operator = Literal["eq", "ne", "in", "not_in", "gte", "lte", "contains", "exists"]
FIELDS = frozenset(
    {
        "country",
        "region",
        "industry",
        "company_size",
        "score",
        "source",
        "language",
        "tags",
        "email_domain",
        "title",
        "utm_source",
    }
)


@dataclass(frozen=True)
class Condition:
    field: str
    op: Operator
    value: Any = None


@dataclass(frozen=True)
class RoutingRule:
    rule_id: str
    team_id: str
    conditions: tuple[Condition, ...] = ()
    #: Extra skills this rule demands of the rep (e.g. ``lang:de``), on top of the team's.
    required_skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleSet:
    """Version 0 is "no rules yet": everything goes to ``default_team`` (if any)."""

    version: int = 0
    rules: tuple[RoutingRule, ...] = ()
    default_team: str | None = None


@dataclass(frozen=True)
class Match:
    team_id: str
    rule_id: str | None  # None = the default team
    required_skills: frozenset[str]


def facts(lead: Lead, score: int) -> dict[str, Any]:
    region = lead.custom.get("region")
    return {
        "country": lead.country,
        "region": str(region) if region else region_of(lead.country),
        "industry": lead.industry,
        "company_size": lead.company_size,
        "score": score,
        "source": lead.source,
        "language": lead.language,
        "tags": list(lead.tags),
        "email_domain": lead.email_domain,
        "title": lead.title,
        "utm_source": lead.utm.source,
    }


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _holds(condition: Condition, facts_: Mapping[str, Any]) -> bool:
    actual = facts_.get(condition.field)
    op, expected = condition.op, condition.value
    if op == "exists":
        present = actual not in (None, [], "")
        return present is bool(expected if expected is not None else True)
    if actual is None:
        return False
    if isinstance(actual, list):  # tags: any tag satisfies eq/in; contains = has tag
        items = {_norm(a) for a in actual}
        if op in ("eq", "contains"):
            return _norm(expected) in items
        if op == "in":
            return bool(items & {_norm(e) for e in expected})
        if op in ("ne", "not_in"):
            banned = {_norm(e) for e in (expected if op == "not_in" else [expected])}
            return not items & banned
        return False
    if op == "eq":
        return bool(_norm(actual) == _norm(expected))
    if op == "ne":
        return bool(_norm(actual) != _norm(expected))
    if op == "in":
        return _norm(actual) in {_norm(e) for e in expected}
    if op == "not_in":
        return _norm(actual) not in {_norm(e) for e in expected}
    if op == "contains":
        return isinstance(actual, str) and str(expected).casefold() in actual.casefold()
    try:
        return bool(actual >= expected) if op == "gte" else bool(actual <= expected)
    except TypeError:
        return False


def match_team(lead: Lead, score: int, rules: RuleSet) -> Match | None:
    """The first rule whose conditions all hold, else the default team, else None."""
    known = facts(lead, score)
    for rule in rules.rules:
        if all(_holds(c, known) for c in rule.conditions):
            return Match(rule.team_id, rule.rule_id, rule.required_skills)
    if rules.default_team is not None:
        return Match(rules.default_team, None, frozenset())
    return None
