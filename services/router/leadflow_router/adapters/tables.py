"""The router's tables (SQLAlchemy Core). Migrations ``0002``/``0003`` create this shape.

* ``reps``: keyed by (tenant, rep_id): tenants choose rep ids independently.

* ``assignments``: one row per (lead, sequence); sequence 0 is the first assignment,
  each SLA reassignment adds one. ``UNIQUE (lead_id, sequence)`` plus a partial unique
  index on the lead's *current* assignment make a second assignment impossible even
  when two consumers race on a redelivered message.
* ``work_items``: leads nobody could take; at most one waiting/claimed item per lead.
* ``rotation``: the weighted-round-robin counters per (team, rep) — the persistent pointer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()


def _ts(name: str, nullable: bool = False) -> Column[object]:
    default = None if nullable else func.now()
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=default)


teams = Table(
    "teams",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("team_id", String(63), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("strategy", String(32), nullable=False),
    Column("fallback_strategy", String(32), nullable=False),
    Column("required_skills", JSONB, nullable=False, server_default="[]"),
    _ts("created_at"),
    _ts("updated_at"),
)

reps = Table(
    "reps",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("rep_id", String(63), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("team_ids", JSONB, nullable=False, server_default="[]"),
    Column("skills", JSONB, nullable=False, server_default="[]"),
    Column("capacity", Integer, nullable=False),
    Column("weight", Integer, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("working_hours", JSONB, nullable=True),
    Column("presence", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    _ts("last_assigned_at", nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
)

rotation = Table(
    "rotation",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("team_id", String(63), primary_key=True),
    Column("rep_id", String(63), primary_key=True),
    Column("credit", BigInteger, nullable=False),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("rules", JSONB, nullable=False),
    Column("default_team", String(63), nullable=True),
    Column("actor", String(200), nullable=False),
    _ts("created_at"),
)

account_owners = Table(
    "account_owners",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("email_domain", String(255), primary_key=True),
    Column("rep_id", String(63), nullable=False),
    _ts("updated_at"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("assignment_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("lead_id", UUID(as_uuid=True), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("rep_id", String(63), nullable=False),
    Column("team_id", String(63), nullable=False),
    Column("strategy", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # open | acked | breached | closed
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("sla_due_at", DateTime(timezone=True), nullable=True),
    _ts("acked_at", nullable=True),
    _ts("ended_at", nullable=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("correlation_id", String(255), nullable=False),
    Column("lead", JSONB, nullable=False),
    Column("score", Integer, nullable=False),
    Column("candidates", JSONB, nullable=False),
    Column("rules_version", Integer, nullable=False),
    Column("previous_assignment_id", UUID(as_uuid=True), nullable=True),
    Column("work_item_id", UUID(as_uuid=True), nullable=True),
    UniqueConstraint("lead_id", "sequence", name="uq_assignments_lead_sequence"),
    Index(
        "uq_assignments_current_per_lead",
        "lead_id",
        unique=True,
        postgresql_where=text("status IN ('open', 'acked')"),
    ),
    Index("ix_assignments_sla", "status", "sla_due_at"),
    Index("ix_assignments_rep_status", "tenant", "rep_id", "status"),
    Index("ix_assignments_tenant_decided", "tenant", "decided_at"),
)

work_items = Table(
    "work_items",
    metadata,
    Column("item_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("lead_id", UUID(as_uuid=True), nullable=False),
    Column("team_id", String(63), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # waiting | claimed | assigned
    _ts("created_at"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_by", String(200), nullable=True),
    _ts("claimed_at", nullable=True),
    Column("assignment_id", UUID(as_uuid=True), nullable=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("correlation_id", String(255), nullable=False),
    Column("lead", JSONB, nullable=False),
    Column("score", Integer, nullable=False),
    Column("candidates", JSONB, nullable=False),
    Column("excluded_reps", JSONB, nullable=False, server_default="[]"),
    Column("rules_version", Integer, nullable=False),
    Column("previous_assignment_id", UUID(as_uuid=True), nullable=True),
    Index(
        "uq_work_items_open_per_lead",
        "lead_id",
        unique=True,
        postgresql_where=text("status IN ('waiting', 'claimed')"),
    ),
    Index("ix_work_items_due", "status", "next_attempt_at"),
    Index("ix_work_items_tenant_created", "tenant", "created_at"),
)
