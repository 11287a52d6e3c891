"""Outbox retention: parked records, the indexes redrive reads by, broker incarnations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op
from servicekit.outbox import add_retention, drop_retention

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_retention(op)


def downgrade() -> None:
    drop_retention(op)
