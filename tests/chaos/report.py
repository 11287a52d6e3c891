"""The chaos table: one row per scenario, the issue's columns first.

``python -m tests.chaos.report <result.json>`` prints the table of a stored run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

COLUMNS = [
    ("scenario", "scenario"),
    ("accepted", "leads answered 202"),
    ("exactly_once", "assigned exactly once"),
    ("lost", "lost"),
    ("assigned_twice", "assigned twice"),
    ("dead_letters_of_good_records", "dead letters of good records"),
    ("seconds_to_recover", "seconds to recover"),
    ("fault_lasted_s", "fault lasted (s)"),
    ("http_500", "HTTP 500"),
    ("audit_incomplete", "audit incomplete"),
    ("verdict", "verdict"),
]


def verdict(result: dict[str, Any]) -> str:
    ok = (
        result["lost"] == 0
        and result["assigned_twice"] == 0
        and result["dead_letters_of_good_records"] == 0
        and result["seconds_to_recover"] is not None
    )
    return "PASS" if ok else "FAIL"


def _cell(result: dict[str, Any], key: str) -> str:
    if key == "http_500":
        return str(result["answers"].get("500", 0))
    value = result[key]
    return "did not recover" if value is None and key == "seconds_to_recover" else str(value)


def table(results: list[dict[str, Any]]) -> str:
    """A markdown table (for the console and the README)."""
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for result in results:
        lines.append("| " + " | ".join(_cell(result, key) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def print_table(results: list[dict[str, Any]]) -> None:
    print("\n" + table(results), flush=True)


if __name__ == "__main__":
    print_table(orjson.loads(Path(sys.argv[1]).read_bytes())["scenarios"])
