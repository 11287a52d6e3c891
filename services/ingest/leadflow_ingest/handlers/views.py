"""Read models: a row as the admin API shows it, which is also the snapshot its
``config.changed`` event carries (so the two never differ)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class TierOut(BaseModel):
    """As stored (not a ``Body``: rows written before today's input checks still read)."""

    name: str
    rate_per_minute: int
    monthly_quota: int
    sla_minutes: int
    features: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TenantOut(BaseModel):
    slug: str
    name: str
    tier: str
    default_region: str
    created_at: datetime
    updated_at: datetime


class SecretInfo(BaseModel):
    secret_id: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    active: bool
