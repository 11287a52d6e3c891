"""Payloads of the scoring stage: ``lead.scored`` and ``lead.qualified``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from leadflow_contracts.lead import Lead

RuleCategory = Literal["fit", "engagement"]


class ScoreReason(BaseModel):
    """One rule that fired, and what it added."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rule_id: str
    description: str
    category: RuleCategory
    points: int


class LeadScored(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    score: int = Field(ge=0, le=100, description="Weighted total of fit and engagement.")
    fit: int = Field(ge=0, le=100)
    engagement: int = Field(ge=0, le=100)
    threshold: int = Field(ge=0, le=100)
    qualified: bool
    reasons: list[ScoreReason]
    rules_version: int = Field(ge=1)


class LeadQualified(BaseModel):
    """The lead snapshot plus its score, so the router needs no look-up."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lead: Lead
    score: LeadScored
