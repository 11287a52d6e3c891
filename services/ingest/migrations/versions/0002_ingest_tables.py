"""Tiers, tenants, sources, webhook secrets, accepted webhooks, usage counters, leads.

Created 2026-11-28.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision, down_revision = "0002", "0001"


def _ts(name: str, nullable: bool = False, default: bool = True) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.now() if default else None,
    )


def upgrade() -> None:
    op.create_table(
        "tiers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("rate_per_minute", sa.Integer, nullable=False),
        sa.Column("monthly_quota", sa.Integer, nullable=False),
        sa.Column("sla_minutes", sa.Integer, nullable=False),
        sa.Column("features", pg.JSONB, nullable=False, server_default="{}"),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "tenants",
        sa.Column("slug", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "tier", sa.String(64), sa.ForeignKey("tiers.name", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("default_region", sa.String(2), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "sources",
        sa.Column("tenant", sa.String(63), sa.ForeignKey("tenants.slug"), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        _ts("created_at"),
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("secret_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        _ts("created_at"),
        _ts("expires_at", nullable=True, default=False),
        _ts("revoked_at", nullable=True, default=False),
        _ts("last_used_at", nullable=True, default=False),
        sa.ForeignKeyConstraint(["tenant", "source"], ["sources.tenant", "sources.source"]),
    )
    op.create_index("ix_webhook_secrets_tenant_source", "webhook_secrets", ["tenant", "source"])
    op.create_table(
        "accepted_webhooks",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("webhook_id", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("lead_id", pg.UUID(as_uuid=True), nullable=False),
        _ts("accepted_at"),
    )
    op.create_table(
        "usage_counters",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("window", sa.String(32), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "leads",
        sa.Column("lead_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        _ts("received_at", default=False),
        sa.Column("duplicate_of", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("lead", pg.JSONB, nullable=False),
        _ts("created_at"),
    )
    op.create_index("ix_leads_tenant_email", "leads", ["tenant", "email", "received_at"])
    op.create_index("ix_leads_tenant_phone", "leads", ["tenant", "phone", "received_at"])


def downgrade() -> None:
    for table in (
        "leads",
        "usage_counters",
        "accepted_webhooks",
        "webhook_secrets",
        "sources",
        "tenants",
        "tiers",
    ):
        op.drop_table(table)
