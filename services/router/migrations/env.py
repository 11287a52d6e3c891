"""Alembic environment of the router service (see servicekit.migrations)."""

from leadflow_router.adapters.tables import metadata as router_metadata
from servicekit.inbox import metadata as inbox_metadata
from servicekit.migrations import run_env
from servicekit.outbox import metadata as outbox_metadata

run_env([inbox_metadata, outbox_metadata, router_metadata])
