"""docs/asyncapi: the AsyncAPI 3 document of every topic is current, valid and complete."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from leadflow_contracts.asyncapi import build, outputs
from leadflow_contracts.topics import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi"
SCHEMA = Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.mark.parametrize("name", sorted(outputs()))
def test_committed_document_is_what_the_registry_generates(name: str) -> None:
    committed = (COMMITTED / name).read_text(encoding="utf-8")
    assert committed == outputs()[name], f"docs/asyncapi/{name} is stale: make contracts-write"


def test_document_validates_against_the_asyncapi_3_schema() -> None:
    checker = shutil.which("check-jsonschema")
    assert checker, "check-jsonschema is a dev dependency (uv sync)"
    done = subprocess.run(
        [checker, "--schemafile", str(SCHEMA), str(COMMITTED / "asyncapi.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_every_topic_its_dead_letters_and_every_party_are_described() -> None:
    document = build()
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {s.name for s in REGISTRY} | {s.dlq for s in REGISTRY}
    operations = set(document["operations"])
    for spec in REGISTRY:
        for producer in spec.producers:
            assert f"{producer}.send.{spec.name}" in operations
        for consumer in spec.consumers:
            assert f"{consumer}.receive.{spec.name}" in operations
        assert f"dlq.receive.{spec.dlq}" in operations
        message = document["components"]["messages"][f"{spec.event_type}.v{spec.schema_version}"]
        assert message["examples"][0]["payload"]["event_type"] == spec.event_type
    for ref in _refs(document):
        assert _resolve(document, ref) is not None, ref
