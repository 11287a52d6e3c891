"""The routing-rules editor's draft: form fields ⇄ the router's rule set. Pure.

The draft lives in the form itself (every button posts the whole form back), so the
console keeps no state between requests. Conditions are edited as text, one per line:
``field operator value`` — ``country in DE, AT, CH``, ``score gte 60``,
``tags contains demo-request``, ``email_domain exists``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OPERATORS = ("eq", "ne", "in", "not_in", "gte", "lte", "contains", "exists")
NUMERIC = ("company_size", "score")
#: The router's request paths → the editor's input names (for problem+json mapping).
FIELDS = {
    "body.rules.{i}.rule_id": "rules-{i}-rule_id",
    "body.rules.{i}.team_id": "rules-{i}-team_id",
    "body.rules.{i}.conditions": "rules-{i}-conditions",
    "body.rules.{i}.required_skills": "rules-{i}-skills",
    "body.default_team": "default_team",
}

#: The same inputs when the draft travels inside ``route:preview``'s body as ``rules``.
PREVIEW_FIELDS = {"body.rules." + path.removeprefix("body."): name for path, name in FIELDS.items()}


@dataclass
class RuleRow:
    rule_id: str = ""
    team_id: str = ""
    conditions: str = ""
    skills: str = ""


@dataclass
class Draft:
    rules: list[RuleRow] = field(default_factory=list)
    default_team: str = ""


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is True:
        return ""
    return "" if value is None else str(value)


def draft_of(stored: Mapping[str, Any]) -> Draft:
    rows = [
        RuleRow(
            rule_id=r["rule_id"],
            team_id=r["team_id"],
            conditions="\n".join(
                f"{c['field']} {c['op']} {_value_text(c.get('value'))}".rstrip()
                for c in r.get("conditions", [])
            ),
            skills=", ".join(r.get("required_skills", [])),
        )
        for r in stored.get("rules", [])
    ]
    return Draft(rows, stored.get("default_team") or "")


def draft_from_form(form: Mapping[str, str]) -> Draft:
    count = int(form.get("rules-count", "0") or 0)
    rows = [
        RuleRow(
            rule_id=form.get(f"rules-{i}-rule_id", "").strip(),
            team_id=form.get(f"rules-{i}-team_id", "").strip(),
            conditions=form.get(f"rules-{i}-conditions", "").strip(),
            skills=form.get(f"rules-{i}-skills", "").strip(),
        )
        for i in range(min(count, 200))
    ]
    return Draft(rows, form.get("default_team", "").strip())


def apply_action(draft: Draft, action: str) -> bool:
    """Structural edits (``add``, ``delete-3``, ``up-2``, ``down-0``); False if ``action``
    is not one of them."""
    verb, _, index = action.partition("-")
    if verb == "add":
        draft.rules.append(RuleRow(rule_id=f"rule-{len(draft.rules) + 1}"))
        return True
    if verb not in ("delete", "up", "down") or not index.isdigit():
        return False
    i = int(index)
    if not 0 <= i < len(draft.rules):
        return True
    if verb == "delete":
        del draft.rules[i]
    elif verb == "up" and i > 0:
        draft.rules[i - 1], draft.rules[i] = draft.rules[i], draft.rules[i - 1]
    elif verb == "down" and i + 1 < len(draft.rules):
        draft.rules[i + 1], draft.rules[i] = draft.rules[i], draft.rules[i + 1]
    return True


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_condition(line: str) -> dict[str, Any]:
    """``ValueError`` names what is wrong with the line."""
    parts = line.split(None, 2)
    if len(parts) < 2:
        raise ValueError(f"{line!r}: write 'field operator value', e.g. 'country in DE, AT'")
    name, op = parts[0], parts[1].lower()
    text = parts[2].strip() if len(parts) > 2 else ""
    if op not in OPERATORS:
        raise ValueError(f"{line!r}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
    value: Any
    if op == "exists":
        value = text.lower() not in ("false", "no", "0")
    elif op in ("in", "not_in"):
        value = [v.strip() for v in text.split(",") if v.strip()]
        if not value:
            raise ValueError(f"{line!r}: list the values, separated by commas")
    elif not text:
        raise ValueError(f"{line!r}: a value is missing")
    elif op in ("gte", "lte") or name in NUMERIC:
        try:
            value = _number(text)
        except ValueError:
            raise ValueError(f"{line!r}: {text!r} is not a number") from None
    else:
        value = text
    return {"field": name, "op": op, "value": value}


def to_body(draft: Draft) -> tuple[dict[str, Any], dict[str, str]]:
    """The router's ``RulesIn`` body and the errors found before sending (input → text)."""
    errors: dict[str, str] = {}
    rules = []
    for i, row in enumerate(draft.rules):
        conditions = []
        for line in filter(None, (ln.strip() for ln in row.conditions.splitlines())):
            try:
                conditions.append(parse_condition(line))
            except ValueError as exc:
                errors.setdefault(f"rules-{i}-conditions", str(exc))
        if not row.team_id:
            errors[f"rules-{i}-team_id"] = "Choose the team this rule sends leads to."
        skills = [s.strip() for s in row.skills.split(",") if s.strip()]
        rules.append(
            {
                "rule_id": row.rule_id,
                "team_id": row.team_id,
                "conditions": conditions,
                "required_skills": skills,
            }
        )
    return {"rules": rules, "default_team": draft.default_team or None}, errors


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """What a version changed against the one before it, in words."""
    old = {r["rule_id"]: r for r in (before or {}).get("rules", [])}
    new = {r["rule_id"]: r for r in after.get("rules", [])}
    out = [f"added {rid} → {r['team_id']}" for rid, r in new.items() if rid not in old]
    out += [f"removed {rid}" for rid in old if rid not in new]
    out += [f"changed {rid}" for rid, r in new.items() if rid in old and old[rid] != r]
    kept_old = [rid for rid in old if rid in new]
    kept_new = [rid for rid in new if rid in old]
    if kept_old != kept_new:
        out.append("reordered: " + ", ".join(kept_new))
    if (before or {}).get("default_team") != after.get("default_team"):
        was = (before or {}).get("default_team") or "none"
        out.append(f"default team {was} → {after.get('default_team') or 'none'}")
    return out or ["no change"]
