"""Payloads of the routing stage."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Strategy = Literal["account_owner", "least_loaded", "weighted_round_robin", "manual"]
ExclusionReason = Literal[
    "inactive",
    "not_available",
    "outside_working_hours",
    "missing_skill",
    "at_capacity",
    "previously_assigned",
    "not_selected",
]
RoutingFailureReason = Literal[
    "no_team_matched",
    "no_rep_available",
    "all_at_capacity",
    "no_eligible_rep",
    "team_empty",
]


class Candidate(BaseModel):
    """A rep the router looked at, and why they were not chosen (None = chosen)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rep_id: str
    excluded_reason: ExclusionReason | None = None
    detail: str | None = None
    open_assignments: int | None = None


class LeadAssigned(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    assignment_id: uuid.UUID
    rep_id: str
    team_id: str
    strategy: Strategy
    candidates: list[Candidate]
    rules_version: int = Field(ge=0)
    sla_due_at: AwareDatetime | None


class LeadRoutingFailed(BaseModel):
    """Nobody eligible: a work-queue item now waits for a manager or a free rep."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reason: RoutingFailureReason
    work_item_id: uuid.UUID
    team_id: str | None
    candidates: list[Candidate]
    rules_version: int = Field(ge=0)


class LeadSlaBreached(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    assignment_id: uuid.UUID
    rep_id: str
    team_id: str
    sla_due_at: AwareDatetime
    breached_at: AwareDatetime


class LeadReassigned(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    previous_assignment_id: uuid.UUID
    previous_rep_id: str
    assignment_id: uuid.UUID
    rep_id: str
    team_id: str
    reason: Literal["sla_breached", "manual"]
    candidates: list[Candidate]
    sla_due_at: AwareDatetime | None
