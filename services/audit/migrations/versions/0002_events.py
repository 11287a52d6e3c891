"""Append-only, hash-chained ``events``; ``lead_status`` projection; the writer role.

``events`` refuses UPDATE, DELETE and TRUNCATE by trigger (for every role, the owner
included; only a superuser who disables triggers, e.g. with
``session_replication_role = replica``, can get round it — and the hash chain then
shows it). The service acts as ``leadflow_audit_writer``, which may only SELECT and
INSERT on ``events``. Roles are cluster-wide: creating it tolerates an existing one and
a concurrent creator; without the privilege to create roles the migration skips the
role and says so (then give the service a role like it by hand).

Created 2026-11-28.
"""

from alembic import op

revision, down_revision = "0002", "0001"

ROLE = "leadflow_audit_writer"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            position bigserial PRIMARY KEY,
            event_id uuid NOT NULL UNIQUE,
            event_type varchar(100) NOT NULL,
            tenant_id varchar(200) NOT NULL,
            lead_id uuid NULL,
            correlation_id varchar(500) NOT NULL,
            trace_id varchar(32) NULL,
            occurred_at timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL,
            envelope jsonb NOT NULL,
            prev_hash varchar(64) NOT NULL,
            row_hash varchar(64) NOT NULL
        );
        CREATE INDEX events_lead_position ON events (lead_id, position);
        CREATE INDEX events_correlation_position ON events (correlation_id, position);
        CREATE INDEX events_trace_position ON events (trace_id, position);
        CREATE INDEX events_tenant_position ON events (tenant_id, position);

        CREATE TABLE lead_status (
            lead_id uuid PRIMARY KEY,
            tenant_id varchar(200) NOT NULL,
            stage varchar(40) NULL,
            stage_at timestamptz NULL,
            stage_event_id uuid NULL,
            terminal boolean NOT NULL,
            last_event_type varchar(100) NOT NULL,
            last_event_at timestamptz NOT NULL,
            last_event_id uuid NOT NULL,
            event_count integer NOT NULL
        );
        CREATE INDEX lead_status_stuck ON lead_status (terminal, last_event_at);

        CREATE FUNCTION events_are_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$;
        CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
        """
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            BEGIN
                CREATE ROLE {ROLE} NOLOGIN;
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN NULL;
                WHEN insufficient_privilege THEN
                    RAISE NOTICE 'cannot create role {ROLE}; grant it by hand';
                    RETURN;
            END;
            IF NOT pg_has_role(current_user, '{ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {ROLE} TO %I', current_user);
            END IF;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO {ROLE}', current_database());
            GRANT USAGE ON SCHEMA public TO {ROLE};
            GRANT SELECT, INSERT ON events TO {ROLE};
            GRANT USAGE, SELECT ON SEQUENCE events_position_seq TO {ROLE};
            GRANT SELECT, INSERT, UPDATE, DELETE ON lead_status, inbox, outbox TO {ROLE};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE};
            REVOKE UPDATE, DELETE, TRUNCATE ON events FROM {ROLE};
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                REVOKE ALL ON events, lead_status, inbox, outbox FROM {ROLE};
                REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE};
            END IF;
        END
        $$;
        DROP TABLE lead_status;
        DROP TABLE events;
        DROP FUNCTION events_are_append_only();
        """
    )
