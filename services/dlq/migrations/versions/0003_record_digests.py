"""Dead letters are identified by position *and* content.

Offsets start again at 0 when a topic is recreated (on every restart of the in-memory
development broker) while this database keeps its rows, so the position-only unique
keys of 0002 made a new failure at a reused offset look like a stored one, and it was
dropped. Adds ``record_digest`` / ``original_digest`` (see
``record_digest`` and ``original_digest`` in ``leadflow_dlq.domain.records``, which
are frozen), digests the rows already
stored, and widens both unique keys with them.

Created 2026-11-28.
"""

import sqlalchemy as sa
from alembic import op

from leadflow_dlq.domain.records import original_digest, record_digest

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.execute(
        "ALTER TABLE dead_letters ADD COLUMN record_digest text NULL, "
        "ADD COLUMN original_digest text NULL"
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, key, value, headers FROM dead_letters")).all()
    for row in rows:
        bind.execute(
            sa.text(
                "UPDATE dead_letters SET record_digest = :record, original_digest = :original "
                "WHERE id = :id"
            ),
            {
                "id": row.id,
                "record": record_digest(row.key, row.value, row.headers),
                "original": original_digest(row.key, row.value, row.headers),
            },
        )
    op.execute(
        """
        ALTER TABLE dead_letters
            ALTER COLUMN record_digest SET NOT NULL,
            ALTER COLUMN original_digest SET NOT NULL,
            DROP CONSTRAINT dead_letters_dlq_position,
            DROP CONSTRAINT dead_letters_original_position,
            ADD CONSTRAINT dead_letters_dlq_record
                UNIQUE (dlq_topic, dlq_partition, dlq_offset, record_digest),
            ADD CONSTRAINT dead_letters_original_record
                UNIQUE (original_topic, original_partition, original_offset, consumer_group,
                        original_digest);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE dead_letters
            DROP CONSTRAINT dead_letters_dlq_record,
            DROP CONSTRAINT dead_letters_original_record,
            ADD CONSTRAINT dead_letters_dlq_position
                UNIQUE (dlq_topic, dlq_partition, dlq_offset),
            ADD CONSTRAINT dead_letters_original_position
                UNIQUE (original_topic, original_partition, original_offset, consumer_group),
            DROP COLUMN record_digest,
            DROP COLUMN original_digest;
        """
    )
