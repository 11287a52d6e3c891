"""Alembic environment of the ingest service (see servicekit.migrations)."""

from leadflow_ingest.adapters.tables import metadata as ingest_metadata
from servicekit.inbox import metadata as inbox_metadata
from servicekit.migrations import run_env
from servicekit.outbox import metadata as outbox_metadata

run_env([inbox_metadata, outbox_metadata, ingest_metadata])
