"""The routing-rules editor's draft ⇄ the router's rule set. No I/O."""

from __future__ import annotations

import pytest
from leadflow_console.rules_form import (
    Draft,
    RuleRow,
    apply_action,
    changes,
    draft_from_form,
    draft_of,
    parse_condition,
    to_body,
)

STORED = {
    "rules": [
        {
            "rule_id": "dach",
            "team_id": "dach",
            "conditions": [
                {"field": "country", "op": "in", "value": ["DE", "AT"]},
                {"field": "score", "op": "gte", "value": 60},
                {"field": "email_domain", "op": "exists", "value": True},
            ],
            "required_skills": ["lang:de"],
        }
    ],
    "default_team": "rest",
}


def test_stored_rules_survive_the_form_round_trip() -> None:
    draft = draft_of(STORED)
    assert draft.rules[0].conditions == "country in DE, AT\nscore gte 60\nemail_domain exists"
    form = {
        "rules-count": "1",
        "rules-0-rule_id": draft.rules[0].rule_id,
        "rules-0-team_id": draft.rules[0].team_id,
        "rules-0-conditions": draft.rules[0].conditions,
        "rules-0-skills": draft.rules[0].skills,
        "default_team": draft.default_team,
    }
    body, errors = to_body(draft_from_form(form))
    assert errors == {}
    assert body == STORED


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("industry eq Software", {"field": "industry", "op": "eq", "value": "Software"}),
        ("company_size gte 250", {"field": "company_size", "op": "gte", "value": 250}),
        ("tags not_in spam, test", {"field": "tags", "op": "not_in", "value": ["spam", "test"]}),
        ("phone exists false", {"field": "phone", "op": "exists", "value": False}),
        ("score lte 99.5", {"field": "score", "op": "lte", "value": 99.5}),
    ],
)
def test_condition_lines(line: str, expected: dict[str, object]) -> None:
    assert parse_condition(line) == expected


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("country", "write 'field operator value'"),
        ("country like DE", "unknown operator 'like'"),
        ("score gte many", "'many' is not a number"),
        ("country in  ", "list the values"),
        ("industry eq", "a value is missing"),
    ],
)
def test_bad_condition_lines_say_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_condition(line)


def test_errors_found_before_sending_name_the_input() -> None:
    draft = Draft([RuleRow("a", "", "score gte x"), RuleRow("b", "sales", "")])
    _, errors = to_body(draft)
    assert set(errors) == {"rules-0-team_id", "rules-0-conditions"}


def test_structural_actions() -> None:
    draft = Draft([RuleRow("a"), RuleRow("b"), RuleRow("c")])

    def after(action: str) -> list[str]:
        assert apply_action(draft, action)
        return [r.rule_id for r in draft.rules]

    assert after("up-2") == ["a", "c", "b"]
    assert after("down-0") == ["c", "a", "b"]
    assert after("delete-1") == ["c", "b"]
    assert after("up-0") == ["c", "b"]
    assert after("add") == ["c", "b", "rule-3"]
    assert apply_action(draft, "delete-99")  # a stale button changes nothing
    assert not apply_action(draft, "save")
    assert not apply_action(draft, "delete-x")


def test_what_a_version_changed() -> None:
    after = {
        "rules": [
            {"rule_id": "b", "team_id": "y", "conditions": []},
            {"rule_id": "a", "team_id": "x2", "conditions": []},
            {"rule_id": "n", "team_id": "z", "conditions": []},
        ],
        "default_team": "x",
    }
    before = {
        "rules": [
            {"rule_id": "a", "team_id": "x", "conditions": []},
            {"rule_id": "b", "team_id": "y", "conditions": []},
            {"rule_id": "gone", "team_id": "y", "conditions": []},
        ],
        "default_team": None,
    }
    assert changes(before, after) == [
        "added n → z",
        "removed gone",
        "changed a",
        "reordered: b, a",
        "default team none → x",
    ]
    assert changes(None, {"rules": [], "default_team": None}) == ["no change"]
