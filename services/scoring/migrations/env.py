"""Alembic environment of the scoring service (see servicekit.migrations)."""

from leadflow_scoring.adapters.tables import metadata as scoring_metadata
from servicekit.inbox import metadata as inbox_metadata
from servicekit.migrations import run_env
from servicekit.outbox import metadata as outbox_metadata

run_env([inbox_metadata, outbox_metadata, scoring_metadata])
