"""Committed JSON Schema snapshots of every event envelope, and the check that guards them.

``schemas/<event_type>.v<schema_version>.json`` holds the JSON Schema of
``Envelope[<payload>]`` for each version an event ever had. The current version's
snapshot must equal what the models generate today; a difference is either a compatible
change (refresh the snapshot) or a breaking one (bump ``schema_version`` in
``topics.py``, keep the old snapshot, and keep old messages readable).
Snapshots of older versions are never deleted: old messages live on in topics, the DLQ
and the audit store.

CLI: ``python -m leadflow_contracts.schemas check`` (exit 1 on any problem) and
``python -m leadflow_contracts.schemas write`` (what ``make contracts-write`` runs).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from leadflow_contracts.compat import breaking_changes
from leadflow_contracts.envelope import envelope_of
from leadflow_contracts.topics import REGISTRY, TopicSpec

Schema = dict[str, Any]
#: Reads the committed snapshot of ``(event_type, version)``, or ``None`` if there is none.
SnapshotReader = Callable[[str, int], Schema | None]

BUMP_ADVICE = (
    "bump schema_version in contracts/leadflow_contracts/topics.py "
    "and keep the old version readable"
)
WRITE_ADVICE = "run `make contracts-write`"


def snapshot_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def envelope_schema(spec: TopicSpec) -> Schema:
    """The JSON Schema (validation mode) of the envelope carrying ``spec``'s payload."""
    # The payload class is only known at run time, which pydantic supports and mypy cannot see.
    model = envelope_of(spec.payload)
    return model.model_json_schema(mode="validation")


def render(schema: Schema) -> str:
    """Stable text: sorted keys, 2-space indent, trailing newline (clean diffs)."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def read_snapshot(event_type: str, version: int) -> Schema | None:
    """The committed snapshot, read as package data so it also works from a wheel."""
    resource = (
        resources.files("leadflow_contracts") / "schemas" / snapshot_name(event_type, version)
    )
    if not resource.is_file():
        return None
    loaded: Schema = json.loads(resource.read_text(encoding="utf-8"))
    return loaded


def problems(specs: Iterable[TopicSpec], read: SnapshotReader = read_snapshot) -> list[str]:
    """Human-readable problems with the committed snapshots; empty when all is well."""
    found: list[str] = []
    for spec in specs:
        label = f"{spec.event_type} v{spec.schema_version}"
        if spec.schema_version > 1 and read(spec.event_type, spec.schema_version - 1) is None:
            previous = snapshot_name(spec.event_type, spec.schema_version - 1)
            found.append(
                f"{label}: the snapshot of the previous version ({previous}) is missing; "
                "restore it from version control: old messages must stay readable"
            )
        committed = read(spec.event_type, spec.schema_version)
        generated = json.loads(render(envelope_schema(spec)))  # as a reader would see it
        if committed is None:
            found.append(f"{label}: no committed snapshot; {WRITE_ADVICE}")
        elif committed != generated:
            breaks = breaking_changes(committed, generated)
            if breaks:
                listed = "".join(f"\n    - {b}" for b in breaks)
                found.append(f"{label}: backward-incompatible change:{listed}\n  {BUMP_ADVICE}")
            else:
                found.append(f"{label}: compatible change, snapshot is stale; {WRITE_ADVICE}")
    return found


def write(specs: Iterable[TopicSpec], directory: Path) -> list[Path]:
    """Write (or refresh) the snapshots of the current versions; never deletes a file."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in specs:
        path = directory / snapshot_name(spec.event_type, spec.schema_version)
        text = render(envelope_schema(spec))
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def source_directory() -> Path:
    """Where snapshots are committed: beside this module in the source tree."""
    return Path(__file__).resolve().parent / "schemas"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["check"]:
        found = problems(REGISTRY, read_snapshot)
        for problem in found:
            print(problem)
        if found:
            print(f"\n{len(found)} schema snapshot problem(s).")
            return 1
        print(f"{len(REGISTRY)} schema snapshots up to date.")
        return 0
    if args == ["write"]:
        for path in write(REGISTRY, source_directory()):
            print(f"wrote {path}")
        return 0
    print("usage: python -m leadflow_contracts.schemas [check|write]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
