"""Tools the compose checks run: found on PATH, never silently missing in CI."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Tool = Callable[[str, str], str]


def _tool(name: str, install_hint: str) -> str:
    """The path of ``name``; without it: a failure in CI (CI=true), else a skip."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    reason = f"{name} is not installed ({install_hint})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must have it (.ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture
def tool() -> Tool:
    """``tool(name, install_hint)``: the path of a command-line tool the test needs."""
    return _tool
