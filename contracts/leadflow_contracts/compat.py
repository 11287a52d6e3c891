"""Backward-compatibility checker for the JSON Schemas of event envelopes.

A change is compatible when the new schema still reads every message that was valid
under the old one (consumers are upgraded while old messages sit in topics, the DLQ and
the audit store) and no field that consumers may rely on disappears. Concretely:

- ``removed_field``: a property of the old schema is gone;
- ``new_required_field``: a property is required now and was not before;
- ``type_changed``: a JSON type (or ``null``) the old schema accepted is not accepted any
  more, a ``format`` was added or changed, or a free value became an enumeration;
- ``enum_value_removed``: an ``enum``/``const`` value the old schema accepted is gone.

Adding an optional field, adding an enum value and widening a type (to nullable, to
``number``, dropping a ``format``) are compatible. Numeric and length bounds are not
compared. The checker is pure: it reads two ``dict`` schemas and returns a list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

BreakKind = Literal["removed_field", "new_required_field", "type_changed", "enum_value_removed"]
Schema = dict[str, Any]
_RESOLVED = "x-resolved-ref"  # marks a schema inlined from a $ref, for the recursion guard


@dataclass(frozen=True)
class Break:
    """One backward-incompatible difference, at a dotted path such as ``payload.lead.email``.

    ``[]`` marks array items and ``*`` the values of a free-form mapping.
    """

    path: str
    kind: BreakKind
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<root>'}: {self.kind}: {self.message}"


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[Break]:
    """Every backward-incompatible change from ``old_schema`` to ``new_schema``."""
    return _Comparison(old_schema, new_schema).values("", old_schema, new_schema)


class _Comparison:
    """Walks both schemas in step; each side resolves ``$ref`` against its own ``$defs``."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._old_root = old_root
        self._new_root = new_root
        # Pairs of definitions being compared further up: stops recursive models looping.
        self._active: set[tuple[str, str]] = set()

    def values(self, path: str, old: Schema, new: Schema) -> list[Break]:
        """Compare two value schemas, each possibly an ``anyOf`` of alternatives."""
        old_alts = _alternatives(old, self._old_root)
        new_alts = _alternatives(new, self._new_root)
        if any(_type_of(alt) == "any" for alt in new_alts):
            return []
        breaks: list[Break] = []
        lost: list[str] = []
        for old_alt in old_alts:
            kind = _type_of(old_alt)
            matches = [alt for alt in new_alts if _accepts_type(_type_of(alt), kind)]
            if not matches:
                lost.append(kind)
                continue
            # Several new alternatives of one type: compatible if any of them reads it.
            found = [self._same_type(path, old_alt, alt) for alt in matches]
            fewest: list[Break] = min(found, key=len)
            breaks.extend(fewest)
        if lost:
            old_types = " | ".join(sorted({_type_of(a) for a in old_alts}))
            new_types = " | ".join(sorted({_type_of(a) for a in new_alts}))
            what = "null" if lost == ["null"] else ", ".join(sorted(lost))
            message = f"no longer accepts {what} (was {old_types}, now {new_types})"
            breaks.insert(0, Break(path, "type_changed", message))
        return breaks

    def _same_type(self, path: str, old: Schema, new: Schema) -> list[Break]:
        breaks = _format_and_enum(path, old, new)
        kind = _type_of(old)
        pair = (str(old.get(_RESOLVED, path)), str(new.get(_RESOLVED, path)))
        if kind == "object" and pair not in self._active:
            self._active.add(pair)
            breaks.extend(self._objects(path, old, new))
            self._active.discard(pair)
        elif kind == "array":
            old_items, new_items = old.get("items", {}), new.get("items", {})
            if isinstance(old_items, dict) and isinstance(new_items, dict):
                breaks.extend(self.values(f"{path}[]", old_items, new_items))
        return breaks

    def _objects(self, path: str, old: Schema, new: Schema) -> list[Break]:
        breaks: list[Break] = []
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        for name, old_prop in old_props.items():
            child = _join(path, name)
            if name not in new_props:
                breaks.append(Break(child, "removed_field", "field was removed"))
            else:
                breaks.extend(self.values(child, old_prop, new_props[name]))
        newly_required = set(new.get("required", [])) - set(old.get("required", []))
        for name in sorted(newly_required):
            child = _join(path, name)
            was = "was optional" if name in old_props else "is new"
            breaks.append(Break(child, "new_required_field", f"field is required and {was}"))
        breaks.extend(self._extra(path, old.get("additionalProperties"), new))
        return breaks

    def _extra(self, path: str, old_extra: object, new: Schema) -> list[Break]:
        """``additionalProperties``: absent or ``True`` accepts anything, ``False`` nothing."""
        new_extra = new.get("additionalProperties")
        if new_extra is False and old_extra is not False:
            return [Break(_join(path, "*"), "type_changed", "extra properties now forbidden")]
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            return self.values(_join(path, "*"), old_extra, new_extra)
        return []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _format_and_enum(path: str, old: Schema, new: Schema) -> list[Break]:
    breaks: list[Break] = []
    if "format" in new and old.get("format") != new["format"]:
        was = old.get("format", "any")
        breaks.append(Break(path, "type_changed", f"format {was!r} became {new['format']!r}"))
    old_values, new_values = _enum_values(old), _enum_values(new)
    if new_values is None:
        return breaks
    if old_values is None:
        allowed = sorted(new_values)
        breaks.append(Break(path, "type_changed", f"any value became one of {allowed}"))
        return breaks
    for value in sorted(old_values - new_values):
        breaks.append(Break(path, "enum_value_removed", f"value {value} is no longer allowed"))
    return breaks


def _enum_values(schema: Schema) -> set[str] | None:
    """``enum`` and ``const`` values as canonical JSON strings (so they can be hashed)."""
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    if "enum" in schema:
        return {json.dumps(value, sort_keys=True) for value in schema["enum"]}
    return None


def _alternatives(schema: Schema, root: Schema) -> list[Schema]:
    """Flatten ``$ref``, ``allOf`` of one, ``anyOf``/``oneOf`` and ``type`` lists."""
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [alt for sub in schema[key] for alt in _alternatives(sub, root)]
    if isinstance(schema.get("type"), list):
        return [{**schema, "type": kind} for kind in schema["type"]]
    return [schema]


def _resolve(schema: Schema, root: Schema) -> Schema:
    seen: set[str] = set()
    while "$ref" in schema or len(schema.get("allOf", [])) == 1:
        if "allOf" in schema:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = {**schema["allOf"][0], **rest}
            continue
        ref: str = schema["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest, _RESOLVED: ref}
    return schema


def _type_of(schema: Schema) -> str:
    """The JSON type a (flattened) alternative accepts; ``any`` when unconstrained."""
    if isinstance(schema.get("type"), str):
        return str(schema["type"])
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if values:
        kinds = {_json_type(value) for value in values}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else "any"


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    names |= {list: "array", dict: "object", type(None): "null"}
    return names.get(type(value), "any")


def _accepts_type(new: str, old: str) -> bool:
    return new == old or (new == "number" and old == "integer")
