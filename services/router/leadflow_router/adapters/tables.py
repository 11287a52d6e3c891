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

from typing import Any

from servicekit.tables import created_at, slug, tenant, timestamp, timestamps, updated_at
from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.schema import UniqueConstraint
from sqlalchemy.sql import text

metadata = MetaData()


def _uuid(name: str, *, nullable: bool = False, primary_key: bool = False) -> Column[Any]:
    return Column(name, UUID(as_uuid=True), nullable=nullable, primary_key=primary_key)


teams = Table(
    "teams",
    metadata,
    tenant(primary_key=True),
    slug("team_id", primary_key=True),
    Column("name", String(200), nullable=False),
    Column("strategy", String(32), nullable=False),
    Column("fallback_strategy", String(32), nullable=False),
    Column("required_skills", JSONB, nullable=False, server_default="[]"),
    *timestamps(),
)

reps = Table(
    "reps",
    metadata,
    tenant(primary_key=True),
    slug("rep_id", primary_key=True),
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
    timestamp("last_assigned_at", nullable=True),
    *timestamps(),
)

rotation = Table(
    "rotation",
    metadata,
    tenant(primary_key=True),
    slug("team_id", primary_key=True),
    slug("rep_id", primary_key=True),
    Column("credit", BigInteger, nullable=False),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    tenant(primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("rules", JSONB, nullable=False),
    slug("default_team", nullable=True),
    Column("actor", String(200), nullable=False),
    created_at(),
)

account_owners = Table(
    "account_owners",
    metadata,
    tenant(primary_key=True),
    Column("email_domain", String(255), primary_key=True),
    slug("rep_id"),
    updated_at(),
)

assignments = Table(
    "assignments",
    metadata,
    _uuid("assignment_id", primary_key=True),
    tenant(),
    _uuid("lead_id"),
    Column("sequence", Integer, nullable=False),
    slug("rep_id"),
    slug("team_id"),
    Column("strategy", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # open | acked | breached | closed
    timestamp("decided_at"),
    timestamp("sla_due_at", nullable=True),
    timestamp("acked_at", nullable=True),
    timestamp("ended_at", nullable=True),
    _uuid("event_id"),
    Column("correlation_id", String(255), nullable=False),
    Column("lead", JSONB, nullable=False),
    Column("score", Integer, nullable=False),
    Column("candidates", JSONB, nullable=False),
    Column("rules_version", Integer, nullable=False),
    _uuid("previous_assignment_id", nullable=True),
    _uuid("work_item_id", nullable=True),
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
    _uuid("item_id", primary_key=True),
    tenant(),
    _uuid("lead_id"),
    slug("team_id", nullable=True),
    Column("reason", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # waiting | claimed | assigned
    created_at(),
    timestamp("next_attempt_at"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_by", String(200), nullable=True),
    timestamp("claimed_at", nullable=True),
    _uuid("assignment_id", nullable=True),
    _uuid("event_id"),
    Column("correlation_id", String(255), nullable=False),
    Column("lead", JSONB, nullable=False),
    Column("score", Integer, nullable=False),
    Column("candidates", JSONB, nullable=False),
    Column("excluded_reps", JSONB, nullable=False, server_default="[]"),
    Column("rules_version", Integer, nullable=False),
    _uuid("previous_assignment_id", nullable=True),
    Index(
        "uq_work_items_open_per_lead",
        "lead_id",
        unique=True,
        postgresql_where=text("status IN ('waiting', 'claimed')"),
    ),
    Index("ix_work_items_due", "status", "next_attempt_at"),
    Index("ix_work_items_tenant_created", "tenant", "created_at"),
)
