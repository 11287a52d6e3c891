"""Rep ids are unique per tenant: reps keyed by (tenant, rep_id).

Created 2026-12-03.

Before, ``rep_id`` alone was the key, so tenant A learnt from a 409 which ids tenant B
used, and two tenants could not both have a rep ``alice``. Existing ids stay valid
(they were unique overall, so they are unique per tenant).
"""

from alembic import op

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.drop_constraint('reps_pkey', 'reps', type_='primary')
    op.create_primary_key('reps_pkey', 'reps', ['tenant', 'rep_id'])
    op.drop_index('ix_reps_tenant', table_name='reps')  # the key's first column now
    op.drop_index('ix_assignments_rep_status', table_name='assignments')
    op.create_index(
        'ix_assignments_rep_status', 'assignments', ['tenant', 'rep_id', 'status'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_assignments_rep_status', table_name='assignments')
    op.create_index('ix_assignments_rep_status', 'assignments', ['rep_id', 'status'], unique=False)
    op.create_index('ix_reps_tenant', 'reps', ['tenant'], unique=False)
    op.drop_constraint('reps_pkey', 'reps', type_='primary')
    op.create_primary_key('reps_pkey', 'reps', ['rep_id'])
