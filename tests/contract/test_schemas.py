"""Committed schema snapshots equal what the models generate, and the check guards them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from leadflow_contracts import schemas
from leadflow_contracts.routing import LeadAssigned
from leadflow_contracts.schemas import (
    BUMP_ADVICE,
    envelope_schema,
    problems,
    read_snapshot,
    render,
    snapshot_name,
    write,
)
from leadflow_contracts.topics import BY_EVENT_TYPE, REGISTRY, TopicSpec

ASSIGNED = BY_EVENT_TYPE["lead.assigned"]


class AssignedWithOwner(LeadAssigned):
    crm_owner_id: str


class AssignedWithNote(LeadAssigned):
    note: str | None = None


def reader(snapshots: dict[tuple[str, int], dict[str, Any]]) -> schemas.SnapshotReader:
    return lambda event_type, version: snapshots.get((event_type, version))


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.event_type)
def test_committed_snapshot_equals_generated_schema(spec: TopicSpec) -> None:
    name = snapshot_name(spec.event_type, spec.schema_version)
    resource = resources.files("leadflow_contracts") / "schemas" / name
    assert resource.is_file(), f"schemas/{name} is missing: run `make contracts-write`"
    assert resource.read_text(encoding="utf-8") == render(envelope_schema(spec)), (
        f"schemas/{name} differs from the models: run `make contracts-check` to see whether "
        "the change is compatible (then `make contracts-write`) or needs a schema_version bump"
    )


def test_render_is_stable_text() -> None:
    text = render({"b": 1, "a": {"d": [1], "c": None}})
    assert text == '{\n  "a": {\n    "c": null,\n    "d": [\n      1\n    ]\n  },\n  "b": 1\n}\n'


def test_check_command_passes_on_the_committed_tree(
    run_python: Callable[..., CompletedProcess[str]],
) -> None:
    result = run_python("-m", "leadflow_contracts.schemas", "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_current_snapshots_have_no_problems() -> None:
    assert problems(REGISTRY) == []


def test_breaking_change_asks_for_a_version_bump() -> None:
    committed = read_snapshot(ASSIGNED.event_type, ASSIGNED.schema_version)
    assert committed is not None
    changed = dataclasses.replace(ASSIGNED, payload=AssignedWithOwner)
    (problem,) = problems([changed], reader({("lead.assigned", 1): committed}))
    assert "lead.assigned v1: backward-incompatible change" in problem
    assert "payload.crm_owner_id: new_required_field" in problem
    assert BUMP_ADVICE in problem


def test_compatible_change_asks_for_a_refresh() -> None:
    committed = read_snapshot(ASSIGNED.event_type, ASSIGNED.schema_version)
    assert committed is not None
    changed = dataclasses.replace(ASSIGNED, payload=AssignedWithNote)
    assert problems([changed], reader({("lead.assigned", 1): committed})) == [
        "lead.assigned v1: compatible change, snapshot is stale; run `make contracts-write`"
    ]


def test_bumped_version_passes_with_both_snapshots() -> None:
    old = read_snapshot(ASSIGNED.event_type, ASSIGNED.schema_version)
    assert old is not None
    bumped = dataclasses.replace(ASSIGNED, payload=AssignedWithOwner, schema_version=2)
    new = json.loads(render(envelope_schema(bumped)))
    assert problems([bumped], reader({("lead.assigned", 1): old, ("lead.assigned", 2): new})) == []


def test_bump_without_the_previous_snapshot_fails() -> None:
    bumped = dataclasses.replace(ASSIGNED, payload=AssignedWithOwner, schema_version=2)
    new = json.loads(render(envelope_schema(bumped)))
    (problem,) = problems([bumped], reader({("lead.assigned", 2): new}))
    assert "previous version (lead.assigned.v1.json) is missing" in problem


def test_missing_snapshot_asks_for_a_write() -> None:
    assert problems([ASSIGNED], reader({})) == [
        "lead.assigned v1: no committed snapshot; run `make contracts-write`"
    ]


def test_write_refreshes_current_versions_and_keeps_old_files(tmp_path: Path) -> None:
    old_version = tmp_path / "lead.assigned.v0.json"
    old_version.write_text("{}\n", encoding="utf-8")
    first = write(REGISTRY, tmp_path)
    assert sorted(path.name for path in first) == sorted(
        snapshot_name(spec.event_type, spec.schema_version) for spec in REGISTRY
    )
    assert write(REGISTRY, tmp_path) == []
    assert old_version.read_text(encoding="utf-8") == "{}\n"


def test_main_check_fails_and_explains(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(schemas, "read_snapshot", lambda event_type, version: None)
    assert schemas.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "lead.received v1: no committed snapshot; run `make contracts-write`" in out
    assert f"{len(REGISTRY)} schema snapshot problem(s)." in out


def test_main_write_uses_the_source_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(schemas, "source_directory", lambda: tmp_path)
    assert schemas.main(["write"]) == 0
    assert len(list(tmp_path.glob("*.json"))) == len(REGISTRY)


def test_main_rejects_unknown_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert schemas.main(["frobnicate"]) == 2
    assert "usage:" in capsys.readouterr().err
