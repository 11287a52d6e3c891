"""Inbox (idempotent consumers) and outbox (events without a cause).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op
from servicekit.inbox import create_inbox_table
from servicekit.outbox import create_outbox_table

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_table(op)
    create_outbox_table(op)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("inbox")
