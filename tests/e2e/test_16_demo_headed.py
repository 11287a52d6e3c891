"""Journey 16: ``make demo-headed`` (issue 19). The console walk runs headless at a fast
pace on the journeys' stack: the video exists and is not empty, every step left its
screenshot, and every step's assertion held (as its steps.json records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from leadflow_local.demo.headed import demo_headed


def _read_log(out_dir: Path) -> list[dict[str, Any]]:
    return list(json.loads((out_dir / "steps.json").read_text()))


def _size(path: str | Path) -> int:
    """Size of a file the walk must have written (missing: 0)."""
    return Path(path).stat().st_size if Path(path).exists() else 0


async def test_the_console_walk_records_a_video_and_every_step_passes(deployment, tmp_path) -> None:
    if deployment.database_url is None or "console" not in deployment.urls:
        pytest.skip(
            "live mode without LEADFLOW_E2E_DATABASE_URL or a console: the walk's dead "
            "letter is made below the API and the walk needs the console"
        )
    printed: list[str] = []
    result = await demo_headed(
        deployment.urls,
        deployment.jwt_secret,
        scoring_database_url=deployment.service_database_url("scoring"),
        state_dir=tmp_path,
        headless=True,
        pause_s=0.2,
        slow_mo_ms=0,
        out=printed.append,
    )
    log = _read_log(result.out_dir)
    assert [s["name"] for s in log] == [
        "sign-in",
        "dashboard",
        "lead",
        "routing-preview",
        "rotate-secret",
        "replay",
    ], printed
    failed = [s for s in log if not s["passed"]]
    assert failed == [], failed
    empty = [s["screenshot"] for s in log if _size(s["screenshot"]) == 0]
    assert empty == []
    assert result.video is not None
    assert _size(result.video) > 0, result.video
    assert result.ok
