"""Payloads of the intake stages: ``lead.received`` and ``sales.lead.created``."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Utm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class Lead(BaseModel):
    """The normalized lead: email lower-cased, phone in E.164, country ISO-3166 alpha-2."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lead_id: uuid.UUID
    tenant_id: str
    source: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(default=None, description="Trimmed and lower-cased.")
    phone: str | None = Field(default=None, description="E.164, e.g. +4930123456.")
    company: str | None = None
    title: str | None = None
    company_size: int | None = Field(default=None, ge=0)
    industry: str | None = None
    country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO-3166 alpha-2."
    )
    language: str | None = Field(default=None, description="BCP-47 primary tag, e.g. 'de'.")
    utm: Utm = Field(default_factory=Utm)
    tags: list[str] = Field(default_factory=list)
    custom: dict[str, Any] = Field(default_factory=dict)
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="The earlier lead with the same email or phone, if any."
    )
    received_at: AwareDatetime
    sla_minutes: int | None = Field(
        default=None,
        ge=1,
        description="The tenant tier's response SLA when the lead arrived (router uses it).",
    )

    @property
    def email_domain(self) -> str | None:
        if self.email is None or "@" not in self.email:
            return None
        return self.email.rsplit("@", 1)[1]


class LeadReceived(BaseModel):
    """A verified webhook, exactly as the upstream sent it (parsed JSON)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: str
    webhook_id: str
    received_at: AwareDatetime
    body: dict[str, Any]
    sla_minutes: int | None = Field(
        default=None, ge=1, description="The tenant tier's response SLA at receipt."
    )


class LeadCreated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    lead: Lead
