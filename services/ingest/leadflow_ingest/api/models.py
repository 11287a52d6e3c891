"""Request and response bodies of the admin API (the read models it answers with are
``handlers.views``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator
from servicekit.inputs import Body, JsonObject, Key

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
TIER_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class TierBody(Body):
    model_config = ConfigDict(extra="forbid")

    rate_per_minute: int = Field(ge=0, le=1_000_000, description="Accepted webhooks per minute.")
    monthly_quota: int = Field(ge=0, le=2_000_000_000, description="Accepted webhooks per month.")
    sla_minutes: int = Field(ge=1, le=60 * 24 * 30, description="Response SLA of an assignment.")
    features: JsonObject = Field(default_factory=dict)


class TierPut(TierBody):
    name: Key | None = Field(default=None, description="Optional; must match the URL.")


class TierIn(TierBody):
    name: str = Field(pattern=TIER_NAME)


def _region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("must be an ISO-3166 alpha-2 region known to libphonenumber, e.g. 'DE'")
    return region


class TenantIn(Body):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    tier: str = Field(min_length=1, max_length=64)
    default_region: str = Field(
        max_length=8, description="Phone numbers without a country code use it."
    )

    _check_region = field_validator("default_region")(_region)


class TenantPatch(Body):
    """Managers may change name and default_region; changing the tier needs admin."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: str | None = Field(default=None, min_length=1, max_length=64)
    default_region: str | None = Field(default=None, max_length=8)

    @field_validator("default_region")
    @classmethod
    def _check_region(cls, value: str | None) -> str | None:
        return None if value is None else _region(value)


class SourceIn(Body):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=64, examples=["generic", "ghl"])


class SourceOut(BaseModel):
    source: str
    created_at: datetime


class UsageOut(BaseModel):
    """Accepted webhooks counted against the tier's limits in the current UTC windows."""

    tenant: str
    tier: str
    period: str = Field(description="The calendar month being counted, e.g. '2026-12'.")
    accepted_this_period: int
    monthly_quota: int
    accepted_this_minute: int
    rate_per_minute: int
    resets_in_seconds: int


class NewSecret(BaseModel):
    """The secret value appears only in this response; store it now."""

    tenant: str
    source: str
    secret_id: uuid.UUID
    secret: str = Field(description="whsec_<base64>: sign webhooks with it.")
    created_at: datetime
    webhook_url: str


class RotateIn(Body):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=86_400, ge=0, le=30 * 86_400, description="How long older secrets stay valid."
    )
