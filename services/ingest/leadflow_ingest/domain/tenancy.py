"""What the webhook path and the worker need to know about a tenant (read model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadflow_ingest.domain.signatures import SigningKey


@dataclass(frozen=True)
class TierLimits:
    name: str
    rate_per_minute: int
    monthly_quota: int
    sla_minutes: int


@dataclass(frozen=True)
class TenantConfig:
    slug: str
    default_region: str
    tier: TierLimits
    #: Configured sources → their non-revoked signing keys (expiry checked per request).
    keys: dict[str, tuple[SigningKey, ...]] = field(default_factory=dict)
