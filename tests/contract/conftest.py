"""Shared fixtures of the contract tests (test files never import each other)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

RunPython = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_python() -> RunPython:
    """Run this interpreter in a fresh process: ``run_python("-c", code, PYTHONHASHSEED="1")``.

    Keyword arguments are added to (and override) the current environment.
    """

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, **env},
        )

    return run
