"""Readable validation errors for rule sets: ``rules[3].condition.pattern: invalid regex``.

pydantic puts the discriminator value of a union member into an error's location
(``rules.3.condition.regex.pattern``); a manager never wrote ``regex`` as a key, so
those parts are dropped and list indexes are shown as ``[n]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from leadflow_scoring.domain.conditions import KINDS


def field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for index, part in enumerate(loc):
        follows_condition = index > 0 and (
            loc[index - 1] in ("condition", "conditions") or isinstance(loc[index - 1], int)
        )
        if isinstance(part, str) and part in KINDS and follows_condition:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def describe(exc: ValidationError, rules: Any = None) -> list[dict[str, str]]:
    """One entry per error: ``field``, ``message`` and, when known, the rule's ``rule_id``."""
    issues: list[dict[str, str]] = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(error.get("loc", ()))
        issue = {"field": field_path(loc), "message": _message(error)}
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rule_id = _rule_id(rules, loc[1])
            if rule_id is not None:
                issue["rule_id"] = rule_id
        issues.append(issue)
    return issues


def summary(issues: list[dict[str, str]], limit: int = 3) -> str:
    text = "; ".join(f"{i['field'] or '(body)'}: {i['message']}" for i in issues[:limit])
    more = len(issues) - limit
    return text + (f" (and {more} more)" if more > 0 else "")


def _message(error: Any) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def _rule_id(rules: Any, index: int) -> str | None:
    if isinstance(rules, list) and 0 <= index < len(rules) and isinstance(rules[index], dict):
        rule_id = rules[index].get("id")
        return rule_id if isinstance(rule_id, str) else None
    return None
