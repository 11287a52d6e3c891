"""Consumers read only the schema versions the registry knows; older ones are upcast."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from leadflow_contracts.examples import load_example
from leadflow_contracts.topics import LEAD_RECEIVED, TopicSpec
from leadflow_contracts.versions import UnknownSchemaVersion, read_envelope, readable_versions
from pydantic import ValidationError


def _example(spec: TopicSpec) -> dict[str, Any]:
    return load_example(spec.event_type, 1)


def test_the_current_version_is_read() -> None:
    raw = _example(LEAD_RECEIVED)
    assert read_envelope(LEAD_RECEIVED, orjson.dumps(raw)).schema_version == 1


@pytest.mark.parametrize("version", [0, 2, 99])
def test_an_unknown_version_is_refused_with_the_versions_it_reads(version: int) -> None:
    raw = _example(LEAD_RECEIVED) | {"schema_version": version}
    with pytest.raises((UnknownSchemaVersion, ValidationError)) as caught:
        read_envelope(LEAD_RECEIVED, orjson.dumps(raw))
    if version >= 1:  # 0 breaks the envelope's own contract (ge=1)
        assert caught.type is UnknownSchemaVersion
        assert f"schema_version {version}" in str(caught.value)
        assert "reads 1" in str(caught.value)


def test_an_unknown_version_is_refused_even_when_its_payload_does_not_fit_v1() -> None:
    raw = _example(LEAD_RECEIVED) | {"schema_version": 7, "payload": {"other": "shape"}}
    with pytest.raises(UnknownSchemaVersion):
        read_envelope(LEAD_RECEIVED, orjson.dumps(raw))


def test_an_older_version_is_upcast_through_the_chain() -> None:
    v2 = dataclasses.replace(LEAD_RECEIVED, schema_version=2)
    raw = _example(LEAD_RECEIVED)
    old_source = raw["payload"].pop("source")
    raw["payload"]["origin"] = old_source  # what "v1" called the field, say

    def rename(envelope: dict[str, Any]) -> dict[str, Any]:
        envelope["payload"]["source"] = envelope["payload"].pop("origin")
        return envelope

    upcasters = {(LEAD_RECEIVED.event_type, 1): rename}
    assert readable_versions(v2, upcasters) == (1, 2)
    envelope = read_envelope(v2, orjson.dumps(raw), upcasters)
    assert envelope.schema_version == 2
    assert envelope.payload.source == old_source
    assert readable_versions(v2) == (2,)
    with pytest.raises(UnknownSchemaVersion):
        read_envelope(v2, orjson.dumps(raw))
