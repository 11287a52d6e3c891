"""The log lines behind a scenario's figures: warnings and errors written by the services,
the broker and the launcher after the fault was injected, grouped by what they say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

_NUMBERS = re.compile(r"\d+")
_LEVELS = ("warning", "error", "critical", "exception")


def log_sizes(log_dir: Path) -> dict[str, int]:
    """Where each log ends now: highlights start there."""
    return {p.name: p.stat().st_size for p in log_dir.glob("*.log")}


def _signature(line: str) -> tuple[str, str] | None:
    """(level, what the line says with numbers masked) for a warning or worse, else None."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        record = None
    if isinstance(record, dict):
        level = str(record.get("level", "")).lower()
        if level not in _LEVELS:
            return None
        what = " ".join(
            str(record.get(k)) for k in ("event", "error", "exception_class") if record.get(k)
        )
        return level, _NUMBERS.sub("N", what)[:200]
    head = line.split(":", 1)[0].strip().lower()
    if head in _LEVELS or "Traceback" in line or "Error" in line:
        return head if head in _LEVELS else "error", _NUMBERS.sub("N", line.strip())[:200]
    return None


def log_highlights(log_dir: Path, since: dict[str, int], top: int = 8) -> dict[str, Any]:
    """Per log file: the most frequent warning/error signatures after ``since`` offsets,
    each with its count and one full example line (cut at 600 characters)."""
    found: dict[str, Any] = {}
    for path in sorted(log_dir.glob("*.log")):
        with path.open("rb") as log:
            log.seek(since.get(path.name, 0))
            text = log.read().decode(errors="replace")
        counts: dict[tuple[str, str], list[Any]] = {}
        for line in text.splitlines():
            signature = _signature(line)
            if signature is None:
                continue
            entry = counts.setdefault(signature, [0, line[:600]])
            entry[0] += 1
        ranked = sorted(counts.items(), key=lambda item: -item[1][0])[:top]
        if ranked:
            found[path.stem] = [
                {"level": level, "what": what, "count": n, "example": example}
                for (level, what), (n, example) in ranked
            ]
    return found
