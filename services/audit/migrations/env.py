"""Alembic environment of the audit service (see servicekit.migrations)."""

from leadflow_audit.adapters.tables import metadata as audit_metadata
from servicekit.inbox import metadata as inbox_metadata
from servicekit.migrations import run_env
from servicekit.outbox import metadata as outbox_metadata

run_env([inbox_metadata, outbox_metadata, audit_metadata])
