"""Per-tenant, immutable rule-set versions.

Created 2026-11-28.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    op.create_table(
        "rule_set_versions",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.CheckConstraint("version >= 1", name="rule_set_versions_version_positive"),
        sa.Column("rules", pg.JSONB, nullable=False),
        sa.Column("weights", pg.JSONB, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("created_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rule_set_versions")
