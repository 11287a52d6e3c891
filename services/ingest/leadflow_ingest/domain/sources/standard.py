"""The standard lead: what every source adapter maps its upstream payload to.

It is still raw (un-normalized) data; ``leadflow_ingest.domain.normalize`` turns it into
the contract's ``Lead``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StandardUtm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(default=None, max_length=200)
    medium: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=200)
    term: str | None = Field(default=None, max_length=200)
    content: str | None = Field(default=None, max_length=200)


class StandardLead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    company_size: int | None = Field(default=None, ge=0)
    industry: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=35)
    utm: StandardUtm = Field(default_factory=StandardUtm)
    tags: list[str] = Field(default_factory=list, max_length=100)
    custom: dict[str, Any] = Field(default_factory=dict)
