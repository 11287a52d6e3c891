"""Scoring's own tables (in its own database)."""

from __future__ import annotations

from servicekit.tables import created_at, tenant
from sqlalchemy import CheckConstraint, Column, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

#: Immutable: rows are only ever inserted. The highest version is the tenant's current
#: rule set; events name the version they used, so every version stays readable.
rule_set_versions = Table(
    "rule_set_versions",
    metadata,
    tenant(primary_key=True),
    Column("version", Integer, primary_key=True),
    CheckConstraint("version >= 1", name="rule_set_versions_version_positive"),
    Column("rules", JSONB, nullable=False),
    Column("weights", JSONB, nullable=False),
    Column("threshold", Integer, nullable=False),
    created_at(),
    Column("created_by", String(200), nullable=False),
)
