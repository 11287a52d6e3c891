"""Ingest's own tables (SQLAlchemy Core). Migrations in ``services/ingest/migrations``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()


def _now() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


tiers = Table(
    "tiers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("rate_per_minute", Integer, nullable=False),
    Column("monthly_quota", Integer, nullable=False),
    Column("sla_minutes", Integer, nullable=False),
    Column("features", JSONB, nullable=False, server_default="{}"),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tenants = Table(
    "tenants",
    metadata,
    Column("slug", String(63), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("tier", String(64), ForeignKey("tiers.name", ondelete="RESTRICT"), nullable=False),
    Column("default_region", String(2), nullable=False),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

sources = Table(
    "sources",
    metadata,
    Column("tenant", String(63), ForeignKey("tenants.slug"), primary_key=True),
    Column("source", String(64), primary_key=True),
    _now(),
)

#: Webhook signing secrets, Fernet-encrypted: HMAC verification needs the raw key, so it
#: cannot be hashed, but a database dump alone must not reveal it.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("secret_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("source", String(64), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    _now(),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    ForeignKeyConstraint(["tenant", "source"], ["sources.tenant", "sources.source"]),
    Index("ix_webhook_secrets_tenant_source", "tenant", "source"),
)

#: One row per accepted webhook-id per tenant: the primary key is the replay guard
#: shared by every replica and every restart.
accepted_webhooks = Table(
    "accepted_webhooks",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("webhook_id", String(255), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("lead_id", UUID(as_uuid=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

#: Request counters per tenant and window ("m2025-06-03T09:14", "M2025-06").
usage_counters = Table(
    "usage_counters",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("window", String(32), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

leads = Table(
    "leads",
    metadata,
    Column("lead_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("source", String(64), nullable=False),
    Column("email", String(320), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("duplicate_of", UUID(as_uuid=True), nullable=True),
    Column("lead", JSONB, nullable=False),
    _now(),
    Index("ix_leads_tenant_email", "tenant", "email", "received_at"),
    Index("ix_leads_tenant_phone", "tenant", "phone", "received_at"),
)
