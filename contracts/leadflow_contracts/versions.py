"""Which schema versions a consumer reads, per the registry, and how older ones are read.

A topic's ``TopicSpec.schema_version`` is the version producers write and consumers
validate against. An older version is readable only through an upcaster registered in
``UPCASTERS`` (its envelope as a dict → the envelope of the next version); any other
version is refused with ``UnknownSchemaVersion`` — never read as if it were the current
one, which would act on fields whose meaning the consumer does not know.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from leadflow_contracts.envelope import Envelope, envelope_of
from leadflow_contracts.topics import TopicSpec

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

#: ``(event_type, version) → upcaster to version + 1``. Empty: every topic is at v1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownSchemaVersion(ValueError):
    """The record's ``schema_version`` is not one this consumer can read."""


def readable_versions(
    spec: TopicSpec, upcasters: dict[tuple[str, int], Upcaster] | None = None
) -> tuple[int, ...]:
    """The current version and every older one with a chain of upcasters up to it."""
    known = UPCASTERS if upcasters is None else upcasters
    versions = [spec.schema_version]
    version = spec.schema_version - 1
    while (spec.event_type, version) in known:
        versions.append(version)
        version -= 1
    return tuple(sorted(versions))


def read_envelope(
    spec: TopicSpec, value: bytes, upcasters: dict[tuple[str, int], Upcaster] | None = None
) -> Envelope[Any]:
    """Validate ``value`` as an envelope of ``spec`` at the current schema version.

    Raises ``UnknownSchemaVersion`` for a version this consumer cannot read and
    pydantic's ``ValidationError`` for a record that does not fit its version.
    """
    model = envelope_of(spec.payload)
    return _read(spec, lambda: model.model_validate_json(value), lambda: _loads(value), upcasters)


def read_envelope_document(
    spec: TopicSpec, document: Any, upcasters: dict[tuple[str, int], Upcaster] | None = None
) -> Envelope[Any]:
    """``read_envelope`` of a record's value already parsed from JSON (a consumer that
    needs the document itself parses it once)."""
    model = envelope_of(spec.payload)
    return _read(spec, lambda: model.model_validate(document), lambda: document, upcasters)


def _read(
    spec: TopicSpec,
    validate: Callable[[], Envelope[Any]],
    raw: Callable[[], Any],
    upcasters: dict[tuple[str, int], Upcaster] | None,
) -> Envelope[Any]:
    known = UPCASTERS if upcasters is None else upcasters
    try:
        envelope = validate()
    except ValidationError:
        peeked = _peek_version(raw())
        if peeked is None or peeked == spec.schema_version:
            raise  # not a version question: the record does not fit its contract
        version = peeked
    else:
        if envelope.schema_version == spec.schema_version:
            return envelope
        version = envelope.schema_version
    if version not in readable_versions(spec, known):
        raise UnknownSchemaVersion(
            f"schema_version {version} of {spec.event_type} is not readable by this consumer "
            f"(it reads {', '.join(map(str, readable_versions(spec, known)))}); "
            "upgrade the consumer, then replay this record from the DLQ"
        )
    upcast: dict[str, Any] = copy.deepcopy(raw())
    while version < spec.schema_version:
        upcast = known[(spec.event_type, version)](upcast)
        version += 1
        upcast["schema_version"] = version
    model = envelope_of(spec.payload)
    result: Envelope[Any] = model.model_validate(upcast)
    return result


def _loads(value: bytes) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return None


def _peek_version(raw: Any) -> int | None:
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None
