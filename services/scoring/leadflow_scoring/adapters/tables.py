"""Scoring's own tables (in its own database)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

#: Immutable: rows are only ever inserted. The highest version is the tenant's current
#: rule set; events name the version they used, so every version stays readable.
rule_set_versions = Table(
    "rule_set_versions",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("rules", JSONB, nullable=False),
    Column("weights", JSONB, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(200), nullable=False),
    CheckConstraint("version >= 1", name="rule_set_versions_version_positive"),
)
