"""The audit service's tables: the append-only ``events`` and the ``lead_status`` view.

``events`` is written only by ``EventStore.append`` (INSERT); migration 0002 adds a
trigger that refuses UPDATE, DELETE and TRUNCATE, and grants the service's role
nothing but SELECT and INSERT on it. ``lead_status`` is a projection: derived data that
``rebuild_projection`` may recompute from ``events`` at any time.
"""

from __future__ import annotations

from servicekit.tables import timestamp
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.schema import Column, Index, MetaData, Table
from sqlalchemy.types import BigInteger, Boolean, Integer, String

metadata = MetaData()

#: The role the service acts as (``SET ROLE`` on every connection): SELECT and INSERT
#: on ``events``, no UPDATE, DELETE or TRUNCATE. Created by migration 0002.
WRITER_ROLE = "leadflow_audit_writer"

events_table = Table(
    "events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("tenant_id", String(200), nullable=False),
    Column("lead_id", UUID(as_uuid=True), nullable=True),
    Column("correlation_id", String(500), nullable=False),
    Column("trace_id", String(32), nullable=True),
    timestamp("occurred_at"),
    timestamp("recorded_at"),
    Column("envelope", JSONB, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("events_lead_position", "lead_id", "position"),
    Index("events_correlation_position", "correlation_id", "position"),
    Index("events_trace_position", "trace_id", "position"),
    Index("events_tenant_position", "tenant_id", "position"),
)

lead_status_table = Table(
    "lead_status",
    metadata,
    Column("lead_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", String(200), nullable=False),
    Column("stage", String(40), nullable=True),
    timestamp("stage_at", nullable=True),
    Column("stage_event_id", UUID(as_uuid=True), nullable=True),
    Column("terminal", Boolean, nullable=False),
    Column("last_event_type", String(100), nullable=False),
    timestamp("last_event_at"),
    Column("last_event_id", UUID(as_uuid=True), nullable=False),
    Column("event_count", Integer, nullable=False),
    Index("lead_status_stuck", "terminal", "last_event_at"),
)
