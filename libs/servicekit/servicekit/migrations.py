"""Alembic helper: each service runs its own migrations against its own database.

A service keeps ``migrations/env.py`` as two lines (``run_env(metadata)``) and calls
``upgrade(database_url, script_location)`` from its CLI or launcher. Migrations hold a
PostgreSQL advisory lock, so several replicas starting at once migrate one at a time.

The revisions every service has (inbox and outbox first, outbox retention later) live here
once: such a revision file holds only its identifiers and
``upgrade, downgrade = INBOX_OUTBOX`` (or ``OUTBOX_RETENTION``). Alembic reads
``branch_labels`` and ``depends_on`` as None where a revision leaves them out.

``python -m servicekit.migrations DIR --service NAME`` migrates the database named by
``LEADFLOW_MIGRATE_DATABASE_URL`` (an environment variable, so a password never shows in
the process list); ``servicekit.service`` runs it as a child before serving.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text

from servicekit.db import ensure_database, sqlalchemy_url
from servicekit.inbox import create_inbox_table
from servicekit.logging import configure_logging
from servicekit.outbox import add_retention, create_outbox_table, drop_retention

_MIGRATION_LOCK_ID = 7_242_031_001


def alembic_config(database_url: str, script_location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, script_location: Path, revision: str = "head") -> None:
    """Create the database if missing, then migrate it to ``revision``."""
    ensure_database(database_url)
    command.upgrade(alembic_config(database_url, script_location), revision)


def run_env(target_metadata: MetaData | list[MetaData]) -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic config has no sqlalchemy.url; use servicekit.migrations")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_ID})"))
        try:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK_ID})"))
            connection.commit()


class Revision(NamedTuple):
    """The body of a revision that several services share."""

    upgrade: Callable[[], None]
    downgrade: Callable[[], None]


def _create_inbox_outbox() -> None:
    create_inbox_table(op)
    create_outbox_table(op)


def _drop_inbox_outbox() -> None:
    op.drop_table("outbox")
    op.drop_table("inbox")


INBOX_OUTBOX = Revision(_create_inbox_outbox, _drop_inbox_outbox)
"""Every service's first revision: the inbox (idempotent consumers) and the outbox."""

OUTBOX_RETENTION = Revision(lambda: add_retention(op), lambda: drop_retention(op))
"""Parked outbox records, the indexes redrive and pruning read by, broker incarnations."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Migrate one service's database to head.")
    parser.add_argument("script_location", type=Path, help="the service's migrations folder")
    parser.add_argument("--service", required=True, help="service name, for the logs")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    url = os.environ.get("LEADFLOW_MIGRATE_DATABASE_URL")
    if not url:
        parser.error("LEADFLOW_MIGRATE_DATABASE_URL is not set")
    configure_logging(args.service, args.log_level)
    upgrade(url, args.script_location)


if __name__ == "__main__":
    main()
