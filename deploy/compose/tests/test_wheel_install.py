"""Each service installs from its own built wheel and migrates its database from it.

The wheel, not the workspace: ``uv build`` the service and the two libraries it needs,
install them with the service's locked third-party dependencies into a fresh venv
(what the Dockerfile does), then run the installed ``migrate`` against a fresh
database. The source tree is out of reach (the venv runs from another directory), so
the migrations must come from inside the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from servicekit.db import sqlalchemy_url
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "scoring", "router", "audit", "dlq")


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.fail("uv is not on PATH (make installs it; `uv run pytest` sets $UV)")
    return uv


def _run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    _run(_uv(), "build", "--all-packages", "--wheel", "--quiet", "-o", str(out), cwd=ROOT)
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_service_migrates_from_its_installed_wheel(
    service: str, wheels: Path, database_url: str, tmp_path: Path
) -> None:
    uv = _uv()
    (wheel,) = wheels.glob(f"leadflow_{service}-*.whl")
    libs = [*wheels.glob("leadflow_contracts-*.whl"), *wheels.glob("leadflow_servicekit-*.whl")]
    requirements = tmp_path / "requirements.txt"
    _run(
        uv, "export", "--frozen", "--quiet", "--no-dev", "--no-emit-workspace", "--no-hashes",
        "--package", f"leadflow-{service}", "-o", str(requirements), cwd=ROOT,
    )  # fmt: skip
    venv = tmp_path / "venv"
    _run(uv, "venv", "--quiet", str(venv), cwd=tmp_path)
    python = str(venv / "bin" / "python")
    _run(
        uv, "pip", "install", "--quiet", "--python", python,
        "-r", str(requirements), str(wheel), *map(str, libs), cwd=tmp_path,
    )  # fmt: skip

    installed = _run(
        python, "-c", f"import leadflow_{service}.__main__ as m; print(m.MIGRATIONS)", cwd=tmp_path
    ).strip()
    assert Path(installed).is_relative_to(venv), f"migrations not from the wheel: {installed}"
    assert (Path(installed) / "env.py").is_file(), f"the wheel carries no migrations: {installed}"

    env = {"PATH": os.environ["PATH"], "DATABASE_URL": database_url, "LEADFLOW_DEV_MODE": "true"}
    _run(python, "-m", f"leadflow_{service}", "migrate", cwd=tmp_path, env=env)

    head = ScriptDirectory(str(ROOT / "services" / service / "migrations")).get_current_head()
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert version == head
