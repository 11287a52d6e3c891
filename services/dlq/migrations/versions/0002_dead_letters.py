"""``dead_letters`` (one row per DLQ record) and ``dead_letter_history``.

Mirrors leadflow_dlq.adapters.tables; written out so later edits of the tables module
cannot change what this revision did.

Created 2026-11-28.
"""

from alembic import op

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE dead_letters (
            id uuid PRIMARY KEY,
            seq bigserial NOT NULL UNIQUE,
            dlq_topic text NOT NULL,
            dlq_partition integer NOT NULL,
            dlq_offset bigint NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            key bytea NULL,
            value bytea NULL,
            headers jsonb NOT NULL,
            topic text NULL,
            original_topic text NULL,
            original_partition integer NULL,
            original_offset bigint NULL,
            consumer_group text NULL,
            exception_class text NULL,
            exception_message text NULL,
            stacktrace text NULL,
            attempts integer NULL,
            first_failed_at timestamptz NULL,
            last_failed_at timestamptz NULL,
            event_id uuid NULL,
            tenant_id text NULL,
            event_type text NULL,
            lead_id uuid NULL,
            value_problem text NULL,
            replay_of uuid NULL,
            status text NOT NULL,
            replay_count integer NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT dead_letters_dlq_position UNIQUE (dlq_topic, dlq_partition, dlq_offset),
            CONSTRAINT dead_letters_original_position
                UNIQUE (original_topic, original_partition, original_offset, consumer_group)
        );
        CREATE INDEX dead_letters_status_seq ON dead_letters (status, seq);
        CREATE INDEX dead_letters_tenant_seq ON dead_letters (tenant_id, seq);
        CREATE INDEX dead_letters_topic_seq ON dead_letters (topic, seq);
        CREATE INDEX dead_letters_event_id ON dead_letters (event_id);

        CREATE TABLE dead_letter_history (
            position bigserial PRIMARY KEY,
            dead_letter_id uuid NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
            at timestamptz NOT NULL DEFAULT now(),
            actor text NOT NULL,
            action text NOT NULL,
            reason text NULL,
            detail jsonb NULL
        );
        CREATE INDEX dead_letter_history_dead_letter_id ON dead_letter_history (dead_letter_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE dead_letter_history; DROP TABLE dead_letters;")
