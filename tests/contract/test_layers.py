"""The layers of every service depend one way: ``api`` on ``handlers`` on ``domain``.

``domain`` is pure (no adapters, no I/O frameworks); ``handlers`` never reach up into
``api``. Read from the source with ``ast``, so a violating import fails here even in a
module no test imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Service packages split into layers (the console is a UI without them).
PACKAGES = sorted(p for p in ROOT.glob("services/*/leadflow_*") if (p / "handlers").is_dir())
#: I/O frameworks the pure domain must not import (STYLE rule 1).
IO_LIBRARIES = ("fastapi", "faststream", "aiokafka", "sqlalchemy", "asyncpg", "httpx")


def imported_modules(path: Path, package_dir: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    here = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # ``from pkg import api`` imports the module pkg.api
                yield node.lineno, f"{name}.{alias.name}"


def forbidden(layer: str, package: str) -> tuple[str, ...]:
    if layer == "handlers":
        return (f"{package}.api",)
    return (f"{package}.api", f"{package}.adapters", f"{package}.handlers", *IO_LIBRARIES)


def violations(package_dir: Path, root: Path = ROOT) -> list[str]:
    package = package_dir.name
    found = []
    for layer in ("handlers", "domain"):
        banned = forbidden(layer, package)
        for path in sorted((package_dir / layer).rglob("*.py")):
            for line, module in imported_modules(path, package_dir):
                if any(module == b or module.startswith(b + ".") for b in banned):
                    found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def test_every_service_is_checked() -> None:
    names = {p.name for p in PACKAGES}
    assert names >= {"leadflow_audit", "leadflow_dlq", "leadflow_ingest", "leadflow_router"}
    assert "leadflow_scoring" in names
    assert all((p / "domain").is_dir() for p in PACKAGES)


@pytest.mark.parametrize("package_dir", PACKAGES, ids=lambda p: p.name)
def test_layers_depend_inward(package_dir: Path) -> None:
    assert violations(package_dir) == []


def test_a_relative_import_is_resolved(tmp_path: Path) -> None:
    """The checker itself: ``from ..api.models import X`` in handlers/ is caught."""
    pkg = tmp_path / "services" / "demo" / "leadflow_demo"
    for layer in ("handlers", "domain", "api"):
        (pkg / layer).mkdir(parents=True)
        (pkg / layer / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "handlers" / "x.py").write_text("from ..api.models import X\n")
    (pkg / "domain" / "y.py").write_text("from leadflow_demo import adapters\nimport sqlalchemy\n")
    assert violations(pkg, root=tmp_path) == [
        "services/demo/leadflow_demo/handlers/x.py:1 imports leadflow_demo.api.models",
        "services/demo/leadflow_demo/handlers/x.py:1 imports leadflow_demo.api.models.X",
        "services/demo/leadflow_demo/domain/y.py:1 imports leadflow_demo.adapters",
        "services/demo/leadflow_demo/domain/y.py:2 imports sqlalchemy",
    ]
