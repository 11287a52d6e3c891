"""What may enter through HTTP: values the database and the pipeline can carry.

Pure pydantic types (no FastAPI, no SQLAlchemy), so domain models may use them too.

Every string, integer and free-form JSON value that reaches a service through a body,
a path or a query parameter is declared with one of these types, so a value that fits
JSON but not PostgreSQL or the broker is refused with a 422 naming the field — before
it is stored, published, or parked forever in an outbox:

* text: PostgreSQL ``text`` cannot hold NUL, and UTF-8 cannot encode a lone surrogate
  (Python's ``json`` module lets ``"\\ud800"`` through), so both are refused; every
  string has a length bound;
* integers: within their column's range (``int4``/``int8``);
* free-form JSON (tier features, routing-rule values, custom fields, webhook bodies):
  at most ``MAX_JSON_DEPTH`` levels and ``MAX_JSON_NODES`` values, every key and string
  a valid text, every integer within 64 bits (the outbox serializes with orjson, which
  cannot write larger ones), every number finite and below 2**63 in magnitude (jsonb
  turns ``1e19`` into an integer).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1
INT8_LIMIT = float(2**63)
#: Deep enough for any real payload; far below orjson's (255) and jiter's (~200) limits,
#: which otherwise fail a record after it was accepted.
MAX_JSON_DEPTH = 32
MAX_JSON_NODES = 20_000


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as PostgreSQL text, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it contains a lone surrogate)"
    return None


def _check_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Loc = tuple[str | int, ...]


def json_problem(
    value: Any, *, max_depth: int = MAX_JSON_DEPTH, max_nodes: int = MAX_JSON_NODES
) -> tuple[Loc, str] | None:
    """The first place (a pydantic-style location, ``()`` for the root) and reason
    ``value`` cannot be stored as jsonb and published, or None. Iterative, so a deep
    value cannot blow the stack."""
    stack: list[tuple[Any, Loc]] = [(value, ())]
    nodes = 0
    while stack:
        item, loc = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return loc, f"has more than {max_nodes} values"
        if isinstance(item, dict | list) and len(loc) >= max_depth:
            return loc, f"nests deeper than {max_depth} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return loc, "object keys must be strings"
                problem = text_problem(key)
                if problem:
                    return (*loc, key), f"key {problem}"
                stack.append((child, (*loc, key)))
        elif isinstance(item, list | tuple):
            stack.extend((child, (*loc, i)) for i, child in enumerate(item))
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return loc, problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT8_MIN <= item <= INT8_MAX:
                return loc, "integers must fit in 64 bits"
        elif isinstance(item, float) and not (math.isfinite(item) and abs(item) < INT8_LIMIT):
            # jsonb keeps 1e19 as the integer 10000000000000000000, which reads back as
            # an int beyond 64 bits: the same outbox failure as the integer itself.
            return loc, "numbers must be finite and within ±9.2e18"
        # Anything else (datetime, UUID) was not parsed from JSON: a Python caller's.
    return None


def dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


def _check_json(value: Any) -> Any:
    found = json_problem(value)
    if found:
        loc, problem = found
        raise ValueError(f"{dotted(loc)}: {problem}" if loc else problem)
    return value


class Body(BaseModel):
    """Base of every request body: anything inside it, however nested, that PostgreSQL
    or the broker could not carry is refused at its own location (``body.rules.0.…``).
    Named fields still declare their own bounds (lengths, column ranges)."""

    @model_validator(mode="before")
    @classmethod
    def _carriable(cls, data: Any) -> Any:
        found = json_problem(data)
        if found:
            loc, problem = found
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("not_storable", problem), loc=loc, input=None
                    )
                ],
            )
        return data


SafeText = AfterValidator(_check_text)
SafeJson = AfterValidator(_check_json)

#: Any stored string: no NUL, no lone surrogate, at most 10,000 characters.
Text = Annotated[str, StringConstraints(max_length=10_000), SafeText]
#: Ids, names of things, enum-like filters: 1 to 200 characters.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), SafeText]
#: Short keys (skills, tags, sources): 1 to 64 characters.
Key = Annotated[str, StringConstraints(min_length=1, max_length=64), SafeText]
#: Filters matched by substring or equality (error texts, correlation ids).
SearchText = Annotated[str, StringConstraints(min_length=1, max_length=1_000), SafeText]

Int4 = Annotated[int, Field(ge=INT4_MIN, le=INT4_MAX)]
Int8 = Annotated[int, Field(ge=INT8_MIN, le=INT8_MAX)]
NonNegativeInt4 = Annotated[int, Field(ge=0, le=INT4_MAX)]
PositiveInt4 = Annotated[int, Field(ge=1, le=INT4_MAX)]
NonNegativeInt8 = Annotated[int, Field(ge=0, le=INT8_MAX)]

#: Free-form JSON objects and values (see the module docstring).
JsonObject = Annotated[dict[str, Any], SafeJson]
JsonValue = Annotated[Any, SafeJson]
