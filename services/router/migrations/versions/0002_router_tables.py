"""Teams, reps, rotation counters, routing rules, account owners, assignments, work items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Created from ``leadflow_router.adapters.tables`` as it stood at this revision; later
changes to the tables get their own revisions.
"""

from collections.abc import Sequence

from alembic import op
from leadflow_router.adapters.tables import metadata

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "teams",
    "reps",
    "rotation",
    "routing_rules",
    "account_owners",
    "assignments",
    "work_items",
)


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in TABLES])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
