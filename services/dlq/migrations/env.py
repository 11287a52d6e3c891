"""Alembic environment of the dlq service (see servicekit.migrations)."""

from leadflow_dlq.adapters.tables import metadata as dlq_metadata
from servicekit.inbox import metadata as inbox_metadata
from servicekit.migrations import run_env
from servicekit.outbox import metadata as outbox_metadata

run_env([inbox_metadata, outbox_metadata, dlq_metadata])
