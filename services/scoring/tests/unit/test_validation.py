"""Rule-set validation errors name the offending rule and the path a manager wrote."""

from __future__ import annotations

from typing import Any

import pytest
from leadflow_scoring.domain.rules import RuleSetSpec
from leadflow_scoring.domain.validation import describe, field_path
from pydantic import ValidationError


def rule(rid: str, condition: dict[str, Any], points: int = 5) -> dict[str, Any]:
    return {"id": rid, "description": rid, "category": "fit", "points": points,
            "condition": condition}  # fmt: skip


def issues(body: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        RuleSetSpec.model_validate(body)
    return describe(caught.value, body.get("rules"))


def test_errors_point_at_the_rule_and_field() -> None:
    body = {
        "rules": [
            rule("ok", {"kind": "present", "field": "title"}),
            rule("nested", {"kind": "all", "conditions": [
                {"kind": "present", "field": "title"},
                {"kind": "regex", "field": "title", "pattern": "[a-"}]}),
            rule("big", {"kind": "free_email"}, points=101),
        ],
        "weights": {"fit": 0, "engagement": 0},
        "threshold": 101,
    }  # fmt: skip
    found = {(i["field"], i.get("rule_id")): i["message"] for i in issues(body)}
    assert found.keys() == {
        ("rules[1].condition.conditions[1].pattern", "nested"),
        ("rules[2].points", "big"),
        ("weights", None),
        ("threshold", None),
    }
    assert found["rules[1].condition.conditions[1].pattern", "nested"].startswith("invalid regex")


def test_duplicate_rule_ids_are_named() -> None:
    body = {
        "rules": [rule("a", {"kind": "free_email"}), rule("a", {"kind": "free_email"})],
        "weights": {"fit": 1, "engagement": 1},
        "threshold": 10,
    }
    [issue] = issues(body)
    assert issue["field"] == "rules"
    assert "duplicate rule id 'a' (rules[0] and rules[1])" in issue["message"]


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("rules", 3, "condition", "regex", "pattern"), "rules[3].condition.pattern"),
        (("rules", 0, "condition", "not", "condition", "equals", "value"),
         "rules[0].condition.condition.value"),
        (("weights", "fit"), "weights.fit"),
    ],
)  # fmt: skip
def test_field_path_drops_union_tags(loc: tuple[Any, ...], path: str) -> None:
    assert field_path(loc) == path
