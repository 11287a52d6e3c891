"""The BFF's mapping of a service's problem+json to the form's fields. No I/O."""

from __future__ import annotations

from leadflow_console.problems import map_problem
from leadflow_console.rules_form import FIELDS, PREVIEW_FIELDS


def _problem(*errors: tuple[str, str]) -> dict[str, object]:
    return {
        "type": "https://leadflow.dev/problems/validation-error",
        "title": "Request failed validation",
        "status": 422,
        "errors": [{"field": f, "message": m} for f, m in errors],
    }


def test_indexed_paths_land_on_the_rows_input() -> None:
    mapped = map_problem(
        _problem(
            ("body.rules.2.conditions.0.field", "unknown field 'shoe_size'"),
            ("body.rules.0.team_id", "String should match pattern"),
            ("body.default_team", "String should match pattern"),
        ),
        FIELDS,
    )
    assert mapped.fields == {
        "rules-2-conditions": "unknown field 'shoe_size'",
        "rules-0-team_id": "String should match pattern",
        "default_team": "String should match pattern",
    }
    assert mapped.general == []


def test_the_same_inputs_when_the_draft_is_nested_in_a_preview() -> None:
    mapped = map_problem(_problem(("body.rules.rules.1.rule_id", "Field required")), PREVIEW_FIELDS)
    assert mapped.fields == {"rules-1-rule_id": "Field required"}


def test_the_longest_prefix_wins_and_the_first_message_per_input_is_kept() -> None:
    fields = {"body.rules": "rules", "body.rules.{i}.points": "rules-{i}-points"}
    mapped = map_problem(
        _problem(
            ("body.rules.3.points", "must be an integer"),
            ("body.rules.3.points", "second complaint"),
            ("body.rules.4.condition.kind", "unknown kind"),
        ),
        fields,
    )
    assert mapped.fields == {"rules-3-points": "must be an integer", "rules": "unknown kind"}


def test_a_prefix_matches_whole_segments_only() -> None:
    mapped = map_problem(_problem(("body.names", "too long")), {"body.name": "name"})
    assert mapped.fields == {}
    assert mapped.general == ["body.names: too long"]


def test_what_no_input_claims_is_never_hidden() -> None:
    mapped = map_problem(_problem(("query.limit", "too large")), FIELDS)
    assert mapped.fields == {}
    assert mapped.general == ["query.limit: too large"]


def test_a_problem_without_field_errors_is_a_general_message() -> None:
    conflict = {"title": "Conflict", "status": 409, "detail": "Tier 'gold' exists already."}
    mapped = map_problem(conflict, {"body.name": "name"})
    assert mapped.fields == {}
    assert mapped.general == ["Conflict: Tier 'gold' exists already."]
    assert map_problem({}, {}).general == ["The request was refused"]


def test_malformed_error_entries_do_not_break_the_mapping() -> None:
    mapped = map_problem({"errors": ["oops", {"message": "no field"}]}, {"body.x": "x"})
    assert mapped.general == ["request: no field"]
