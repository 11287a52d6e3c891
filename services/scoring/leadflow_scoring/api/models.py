"""Shapes of the scoring admin API (request and response bodies)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from leadflow_contracts import Lead, LeadScored, utcnow
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from servicekit.inputs import Body

from leadflow_scoring.adapters.rule_store import RuleSetUnavailable, StoredVersion
from leadflow_scoring.domain.rules import RuleSetSpec

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
#: The id a previewed lead gets when the caller sends none (no event carries it).
PREVIEW_LEAD_ID = uuid.UUID(int=0)


class Issue(BaseModel):
    field: str
    message: str
    rule_id: str | None = None


class RuleSetOut(BaseModel):
    """One version as stored. ``valid`` is false (with ``errors``) for a version this
    release cannot load; leads of its tenant then wait in the DLQ until a PUT fixes it."""

    tenant: str
    version: int
    rules: list[Any]
    weights: Any
    threshold: int
    created_at: datetime | None = Field(description="null: the default, not yet stored")
    created_by: str
    valid: bool
    errors: list[Issue]

    @classmethod
    def of(cls, stored: StoredVersion) -> RuleSetOut:
        try:
            stored.load()
            errors: list[Issue] = []
        except RuleSetUnavailable as exc:
            errors = [Issue.model_validate(i) for i in exc.issues]
        rules = stored.rules if isinstance(stored.rules, list) else [stored.rules]
        return cls(
            tenant=stored.tenant,
            version=stored.version,
            rules=rules,
            weights=stored.weights,
            threshold=stored.threshold,
            created_at=stored.created_at,
            created_by=stored.created_by,
            valid=not errors,
            errors=errors,
        )


class VersionSummary(BaseModel):
    version: int
    created_at: datetime | None
    created_by: str
    rules: int
    threshold: int
    weights: Any


class VersionsOut(BaseModel):
    tenant: str
    current: int
    versions: list[VersionSummary] = Field(description="Newest first.")


class RuleSetIn(Body, RuleSetSpec):
    """A rule set as PUT: the domain's spec, refused where it could not be stored."""


class PreviewLead(Body, Lead):
    """A lead in the ``Lead`` shape; ids and timestamps may be omitted."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lead_id: uuid.UUID | None = None  # type: ignore[assignment]
    tenant_id: str | None = None  # type: ignore[assignment]
    received_at: AwareDatetime | None = None  # type: ignore[assignment]

    def to_lead(self, tenant: str) -> Lead:
        return Lead.model_validate(
            self.model_dump()
            | {
                "lead_id": self.lead_id or PREVIEW_LEAD_ID,
                "tenant_id": tenant,
                "received_at": self.received_at or utcnow(),
            }
        )


class RawScores(BaseModel):
    fit: int
    engagement: int


class PreviewOut(BaseModel):
    """``scored`` is exactly the ``lead.scored`` payload the pipeline would emit."""

    scored: LeadScored
    would_emit: list[str] = Field(description="Event types the pipeline would emit.")
    raw: RawScores = Field(description="Sums of the fired rules' points before clamping.")
