"""Alembic helper: each service runs its own migrations against its own database.

A service keeps ``migrations/env.py`` as two lines (``run_env(metadata)``) and calls
``upgrade(database_url, script_location)`` from its CLI or launcher. Migrations hold a
PostgreSQL advisory lock, so several replicas starting at once migrate one at a time.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text

from servicekit.db import ensure_database, sqlalchemy_url

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
