"""The short chaos run as a test (``make chaos-short``): three scenarios at a lower rate,
every one must lose nothing, assign nothing twice, dead-letter no good record and
recover without a human.

It drives ``python -m tests.chaos.run`` exactly as ``make chaos`` does and reads its
result JSON. The file name keeps it out of ``make test`` (it takes several minutes: a
fresh stack per scenario); pytest collects it when it is named on the command line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]
SHORT = ["kill -9 router", "postgres immediate restart, 10 s", "broker kill"]


def test_short_chaos_run_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    args = ["--count", "600", "--rate", "40", "--inject-at", "5", "--tail", "10"]
    args += [f"--only={name}" for name in SHORT] + ["--out", str(out)]
    run = subprocess.run(
        [sys.executable, "-m", "tests.chaos.run", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert out.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    results = orjson.loads(out.read_bytes())["scenarios"]
    assert len(results) == len(SHORT), [r["scenario"] for r in results]
    failures = {
        r["scenario"]: {
            k: r[k] for k in ("accepted", "lost", "assigned_twice", "dead_letters_of_good_records")
        }
        | {"seconds_to_recover": r["seconds_to_recover"]}
        for r in results
        if r["verdict"] != "PASS"
    }
    assert all(r["accepted"] > 0 for r in results), run.stdout[-3000:]
    assert failures == {}, run.stdout[-4000:]
