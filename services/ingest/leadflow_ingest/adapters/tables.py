"""Ingest's own tables (SQLAlchemy Core). Migrations in ``services/ingest/migrations``."""

from __future__ import annotations

from servicekit.tables import created_at, slug, tenant, timestamp, timestamps
from sqlalchemy import BigInteger, Column, ForeignKey, ForeignKeyConstraint, Index, Integer
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.schema import MetaData, Table
from sqlalchemy.types import LargeBinary, String

metadata = MetaData()


tiers = Table(
    "tiers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("rate_per_minute", Integer, nullable=False),
    Column("monthly_quota", Integer, nullable=False),
    Column("sla_minutes", Integer, nullable=False),
    Column("features", JSONB, nullable=False, server_default="{}"),
    *timestamps(),
)

tenants = Table(
    "tenants",
    metadata,
    slug("slug", primary_key=True),
    Column("name", String(200), nullable=False),
    Column("tier", String(64), ForeignKey("tiers.name", ondelete="RESTRICT"), nullable=False),
    Column("default_region", String(2), nullable=False),
    *timestamps(),
)

sources = Table(
    "sources",
    metadata,
    Column("tenant", String(63), ForeignKey("tenants.slug"), primary_key=True),
    Column("source", String(64), primary_key=True),
    created_at(),
)

#: Webhook signing secrets, Fernet-encrypted: HMAC verification needs the raw key, so it
#: cannot be hashed, but a database dump alone must not reveal it.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("secret_id", UUID(as_uuid=True), primary_key=True),
    tenant(),
    Column("source", String(64), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    created_at(),
    timestamp("expires_at", nullable=True),
    timestamp("revoked_at", nullable=True),
    timestamp("last_used_at", nullable=True),
    ForeignKeyConstraint(["tenant", "source"], ["sources.tenant", "sources.source"]),
    Index("ix_webhook_secrets_tenant_source", "tenant", "source"),
)

#: One row per accepted webhook-id per tenant: the primary key is the replay guard
#: shared by every replica and every restart.
accepted_webhooks = Table(
    "accepted_webhooks",
    metadata,
    tenant(primary_key=True),
    Column("webhook_id", String(255), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("lead_id", UUID(as_uuid=True), nullable=False),
    timestamp("accepted_at", now=True),
)

#: Request counters per tenant and window ("m2025-06-03T09:14", "M2025-06").
usage_counters = Table(
    "usage_counters",
    metadata,
    tenant(primary_key=True),
    Column("window", String(32), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

leads = Table(
    "leads",
    metadata,
    Column("lead_id", UUID(as_uuid=True), primary_key=True),
    tenant(),
    Column("source", String(64), nullable=False),
    Column("email", String(320), nullable=True),
    Column("phone", String(32), nullable=True),
    timestamp("received_at"),
    Column("duplicate_of", UUID(as_uuid=True), nullable=True),
    Column("lead", JSONB, nullable=False),
    created_at(),
    Index("ix_leads_tenant_email", "tenant", "email", "received_at"),
    Index("ix_leads_tenant_phone", "tenant", "phone", "received_at"),
)
