"""The compatibility checker flags every kind of break, and nothing compatible.

First on small hand-made schemas (one edit each), then on real payload models changed
the way a developer would change them, compared with the committed snapshots.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import pytest
from leadflow_contracts.compat import Break, breaking_changes
from leadflow_contracts.lead import Lead, LeadCreated
from leadflow_contracts.routing import Candidate, LeadAssigned, LeadSlaBreached
from leadflow_contracts.schemas import envelope_schema, read_snapshot
from leadflow_contracts.scoring import LeadScored
from leadflow_contracts.topics import BY_EVENT_TYPE
from pydantic import AwareDatetime, BaseModel, create_model

Schema = dict[str, Any]

BASE: Schema = {
    "$defs": {
        "Tag": {
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
            "type": "object",
        }
    },
    "properties": {
        "id": {"format": "uuid", "type": "string"},
        "email": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "status": {"enum": ["new", "won"], "type": "string"},
        "kind": {"const": "lead", "type": "string"},
        "tags": {"items": {"$ref": "#/$defs/Tag"}, "type": "array"},
        "custom": {"additionalProperties": {"type": "integer"}, "type": "object"},
    },
    "required": ["id", "status", "kind", "tags"],
    "type": "object",
}


def edited(edit: Callable[[Schema], object]) -> Schema:
    schema = copy.deepcopy(BASE)
    edit(schema)
    return schema


def props(schema: Schema) -> Schema:
    result: Schema = schema["properties"]
    return result


BREAKING: dict[str, tuple[Callable[[Schema], object], set[tuple[str, str]]]] = {
    "field removed": (lambda s: props(s).pop("email"), {("email", "removed_field")}),
    "nested field removed": (
        lambda s: s["$defs"]["Tag"]["properties"].pop("name"),
        {("tags[].name", "removed_field")},
    ),
    "new required field": (
        lambda s: (props(s).update(owner={"type": "string"}), s["required"].append("owner")),
        {("owner", "new_required_field")},
    ),
    "optional field made required": (
        lambda s: s["required"].append("email"),
        {("email", "new_required_field")},
    ),
    "type changed": (
        lambda s: props(s).update(id={"type": "integer"}),
        {("id", "type_changed")},
    ),
    "nested type changed": (
        lambda s: s["$defs"]["Tag"]["properties"].update(name={"type": "integer"}),
        {("tags[].name", "type_changed")},
    ),
    "nullable made non-nullable": (
        lambda s: props(s).update(email={"type": "string"}),
        {("email", "type_changed")},
    ),
    "format changed": (
        lambda s: props(s)["id"].update(format="email"),
        {("id", "type_changed")},
    ),
    "mapping values changed": (
        lambda s: props(s)["custom"].update(additionalProperties={"type": "string"}),
        {("custom.*", "type_changed")},
    ),
    "extra properties forbidden": (
        lambda s: s.update(additionalProperties=False),
        {("*", "type_changed")},
    ),
    "free string made an enum": (
        lambda s: s["$defs"]["Tag"]["properties"]["name"].update(enum=["hot"]),
        {("tags[].name", "type_changed")},
    ),
    "enum value removed": (
        lambda s: props(s)["status"].update(enum=["new"]),
        {("status", "enum_value_removed")},
    ),
    "const changed": (
        lambda s: props(s)["kind"].update(const="contact"),
        {("kind", "enum_value_removed")},
    ),
}

COMPATIBLE: dict[str, Callable[[Schema], object]] = {
    "unchanged": lambda s: None,
    "optional field added": lambda s: props(s).update(note={"type": "string"}),
    "enum value added": lambda s: props(s)["status"].update(enum=["new", "won", "lost"]),
    "const widened to an enum": lambda s: props(s).update(kind={"enum": ["lead", "contact"]}),
    "made nullable": lambda s: props(s).update(
        id={"anyOf": [{"format": "uuid", "type": "string"}, {"type": "null"}]}
    ),
    "integer widened to number": lambda s: props(s)["custom"].update(
        additionalProperties={"type": "number"}
    ),
    "format dropped": lambda s: props(s)["id"].pop("format"),
    "required field made optional": lambda s: s["required"].remove("status"),
    "definition renamed": lambda s: (
        s["$defs"].update(Label=s["$defs"].pop("Tag")),
        props(s)["tags"].update(items={"$ref": "#/$defs/Label"}),
    ),
    "reference inlined": lambda s: props(s)["tags"].update(items=s["$defs"]["Tag"]),
    "type list instead of anyOf": lambda s: props(s).update(email={"type": ["string", "null"]}),
    "field made free-form": lambda s: props(s).update(status={}),
}


def found(old: Schema, new: Schema) -> set[tuple[str, str]]:
    return {(b.path, b.kind) for b in breaking_changes(old, new)}


@pytest.mark.parametrize("case", sorted(BREAKING))
def test_flags_each_kind_of_break(case: str) -> None:
    edit, expected = BREAKING[case]
    assert found(BASE, edited(edit)) == expected


@pytest.mark.parametrize("case", sorted(COMPATIBLE))
def test_does_not_flag_compatible_changes(case: str) -> None:
    assert breaking_changes(BASE, edited(COMPATIBLE[case])) == []


def test_break_names_the_value_and_the_null() -> None:
    (removed,) = breaking_changes(BASE, edited(lambda s: props(s)["status"].update(enum=["new"])))
    assert removed == Break("status", "enum_value_removed", 'value "won" is no longer allowed')
    (nullable,) = breaking_changes(
        BASE, edited(lambda s: props(s).update(email={"type": "string"}))
    )
    assert "no longer accepts null" in nullable.message


def test_list_of_anything_narrowed_is_a_type_change() -> None:
    old = {"properties": {"xs": {"type": "array"}}, "type": "object"}
    new = {"properties": {"xs": {"items": {"type": "string"}, "type": "array"}}, "type": "object"}
    assert found(old, new) == {("xs[]", "type_changed")}
    assert found(new, old) == set()


def test_recursive_definitions_terminate() -> None:
    node = {
        "properties": {"children": {"items": {"$ref": "#/$defs/Node"}, "type": "array"}},
        "type": "object",
    }
    old = {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}
    new = copy.deepcopy(old)
    new["$defs"]["Node"]["properties"]["children"]["type"] = "object"
    assert breaking_changes(old, old) == []
    assert found(old, new) == {("children", "type_changed")}


# --- real payload models, changed and compared with the committed snapshot -------------


def without(model: type[BaseModel], field: str) -> type[BaseModel]:
    """A copy of ``model`` without ``field`` (pydantic cannot delete one in a subclass)."""
    fields: Any = {
        name: (info.annotation, info) for name, info in model.model_fields.items() if name != field
    }
    return create_model(model.__name__, __config__=model.model_config, **fields)


def against_snapshot(event_type: str, payload: type[BaseModel]) -> set[tuple[str, str]]:
    spec = BY_EVENT_TYPE[event_type]
    committed = read_snapshot(spec.event_type, spec.schema_version)
    assert committed is not None, "no committed snapshot: run `make contracts-write`"
    return found(committed, envelope_schema(dataclasses.replace(spec, payload=payload)))


class AssignedWithOwner(LeadAssigned):
    crm_owner_id: str


class AssignedFewerStrategies(LeadAssigned):
    strategy: Literal["account_owner", "least_loaded", "weighted_round_robin"]  # type: ignore[assignment]


class AssignedSlaAlwaysSet(LeadAssigned):
    sla_due_at: AwareDatetime  # type: ignore[assignment]


class ScoredAsText(LeadScored):
    score: str  # type: ignore[assignment]


class StrictCandidate(Candidate):
    excluded_reason: Literal["inactive", "at_capacity"] | None = None  # type: ignore[assignment]


class AssignedStrictCandidates(LeadAssigned):
    candidates: list[StrictCandidate]  # type: ignore[assignment]


class CreatedWithoutEmail(LeadCreated):
    lead: without(Lead, "email")  # type: ignore[valid-type]


class AssignedWithNote(LeadAssigned):
    note: str | None = None


class AssignedMoreStrategies(LeadAssigned):
    strategy: Literal[  # type: ignore[assignment]
        "account_owner", "least_loaded", "weighted_round_robin", "manual", "skills_match"
    ]


class BreachedRepUnknown(LeadSlaBreached):
    rep_id: str | None  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("event_type", "payload", "expected"),
    [
        pytest.param(
            "lead.created",
            CreatedWithoutEmail,
            ("payload.lead.email", "removed_field"),
            id="nested field removed",
        ),
        pytest.param(
            "lead.assigned",
            without(LeadAssigned, "team_id"),
            ("payload.team_id", "removed_field"),
            id="field removed",
        ),
        pytest.param(
            "lead.assigned",
            AssignedWithOwner,
            ("payload.crm_owner_id", "new_required_field"),
            id="required field added",
        ),
        pytest.param(
            "lead.assigned",
            AssignedFewerStrategies,
            ("payload.strategy", "enum_value_removed"),
            id="literal value removed",
        ),
        pytest.param(
            "lead.assigned",
            AssignedSlaAlwaysSet,
            ("payload.sla_due_at", "type_changed"),
            id="made non-nullable",
        ),
        pytest.param(
            "lead.scored", ScoredAsText, ("payload.score", "type_changed"), id="type changed"
        ),
        pytest.param(
            "lead.assigned",
            AssignedStrictCandidates,
            ("payload.candidates[].excluded_reason", "enum_value_removed"),
            id="literal value removed in list items",
        ),
    ],
)
def test_flags_real_model_breaks(
    event_type: str, payload: type[BaseModel], expected: tuple[str, str]
) -> None:
    assert against_snapshot(event_type, payload) == {expected}


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("lead.assigned", AssignedWithNote),
        ("lead.assigned", AssignedMoreStrategies),
        ("lead.sla_breached", BreachedRepUnknown),
    ],
)
def test_does_not_flag_real_compatible_changes(event_type: str, payload: type[BaseModel]) -> None:
    assert against_snapshot(event_type, payload) == set()


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param({"$ref": "other.json#/Lead"}, id="external"),
        pytest.param(
            {
                "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
                "$ref": "#/$defs/A",
            },
            id="cycle of aliases",
        ),
    ],
)
def test_unresolvable_references_are_an_error(schema: Schema) -> None:
    with pytest.raises(ValueError, match="cannot resolve"):
        breaking_changes(schema, schema)
