"""``serve`` migrates in a child process (``servicekit.service.migrate_in_child``), so
Alembic stays out of the serving process; these tests run that child for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from servicekit.db import libpq_url
from servicekit.service import migrate_in_child
from servicekit.settings import ServiceSettings

ENV_PY = """
from sqlalchemy import MetaData
from servicekit.migrations import run_env

run_env(MetaData())
"""

REVISION = '''
"""{name}"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("{sql}")
'''


def _migrations(root: Path, sql: str) -> Path:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV_PY)
    (root / "versions" / "0001_first.py").write_text(REVISION.format(name="first", sql=sql))
    return root


def _tables(database_url: str) -> set[str]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_serve_migrates_in_a_child_process(tmp_path: Path, database_url: str) -> None:
    migrations = _migrations(tmp_path / "m", "CREATE TABLE made_by_child (id int)")
    settings = ServiceSettings(service_name="kit-test", database_url=database_url)

    migrate_in_child(settings, migrations)

    assert {"alembic_version", "made_by_child"} <= _tables(database_url)
    migrate_in_child(settings, migrations)  # at head already: nothing to do, no error


def test_a_failing_migration_stops_the_service_with_its_name(
    tmp_path: Path, database_url: str
) -> None:
    migrations = _migrations(tmp_path / "m", "CREATE TABLE broken (")
    settings = ServiceSettings(service_name="kit-test", database_url=database_url)

    with pytest.raises(SystemExit, match=r"kit-test: migrations failed \(exit 1\), not serving"):
        migrate_in_child(settings, migrations)
    assert "broken" not in _tables(database_url)


def test_the_child_refuses_to_run_without_a_database_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LEADFLOW_MIGRATE_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "servicekit.migrations", str(tmp_path), "--service", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "LEADFLOW_MIGRATE_DATABASE_URL is not set" in done.stderr
