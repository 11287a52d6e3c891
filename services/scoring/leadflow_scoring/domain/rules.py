"""Rule sets: data that a manager edits, stored per tenant as immutable versions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadflow_scoring.domain.conditions import MAX_NESTING, Condition

RULE_ID = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
MAX_RULES = 200


class Rule(BaseModel):
    """One rule: when ``condition`` holds, ``points`` are added to ``category``.

    Points may be negative (a free-mail address lowers fit); the category's sum is
    clamped to 0-100 after all rules ran.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=RULE_ID, description="Unique within the rule set.")
    description: str = Field(min_length=1, max_length=200)
    category: Literal["fit", "engagement"]
    condition: Condition
    points: int = Field(ge=-100, le=100)

    @field_validator("condition")
    @classmethod
    def _shallow(cls, condition: Condition) -> Condition:
        if condition.depth() > MAX_NESTING:
            raise ValueError(f"conditions may nest at most {MAX_NESTING} levels deep")
        return condition


class Weights(BaseModel):
    """Relative weights of fit and engagement in the total (e.g. 60/40)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fit: int = Field(ge=0, le=100)
    engagement: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _not_both_zero(self) -> Weights:
        if self.fit + self.engagement == 0:
            raise ValueError("at least one of the weights must be greater than 0")
        return self


class RuleSetSpec(BaseModel):
    """What a manager PUTs: the rules, the weights and the qualification threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[Rule] = Field(max_length=MAX_RULES)
    weights: Weights
    threshold: int = Field(ge=0, le=100, description="qualified when total >= threshold")

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first:
                raise ValueError(
                    f"duplicate rule id {rule.id!r} (rules[{first[rule.id]}] and rules[{index}])"
                )
            first[rule.id] = index
        return rules


class RuleSet(RuleSetSpec):
    """A stored, immutable version of a tenant's rule set."""

    version: int = Field(ge=1)
