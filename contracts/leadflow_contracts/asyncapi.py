"""The AsyncAPI 3 document of every topic, generated from the registry.

One channel per topic and one per dead-letter topic, the operations of every producer
and consumer named in the registry, one message per event (the envelope's JSON Schema
at its current schema version, the record key, the headers, the committed example).
Committed as ``docs/asyncapi/asyncapi.json`` with a static HTML rendering beside it
(``asyncapi_html``); ``python -m leadflow_contracts.asyncapi check`` fails when either
is not what the registry generates today, ``write`` refreshes both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from leadflow_contracts import headers
from leadflow_contracts.envelope import envelope_of
from leadflow_contracts.examples import load_example
from leadflow_contracts.topics import REGISTRY, TopicSpec

Document = dict[str, Any]
VERSION = "0.1.0"
_REF = "#/components/schemas/{model}"


def _id(name: str) -> str:
    """An AsyncAPI component key (``^[a-zA-Z0-9.\\-_]+$``) of a topic or event name."""
    return name.replace("/", "_")


def _record_headers(dead_letter: bool) -> dict[str, Any]:
    names = [headers.TRACEPARENT, headers.TRACESTATE, headers.EVENT_TYPE, headers.SCHEMA_VERSION]
    names += [headers.REPLAY_OF, headers.REPLAY_COUNT]
    if dead_letter:
        names += list(headers.DLQ_HEADERS)
    return {"type": "object", "properties": {n: {"type": "string"} for n in names}}


def _kafka_channel(spec: TopicSpec, topic: str) -> dict[str, Any]:
    return {
        "kafka": {
            "topic": topic,
            "partitions": spec.partitions,
            "topicConfiguration": {"retention.ms": spec.retention_ms},
            "bindingVersion": "0.5.0",
        }
    }


def build() -> Document:
    specs = list(REGISTRY)
    mode: Literal["validation"] = "validation"
    envelopes: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (envelope_of(s.payload), mode) for s in specs
    ]
    refs, top = models_json_schema(envelopes, ref_template=_REF)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec, envelope in zip(specs, envelopes, strict=True):
        message = f"{_id(spec.event_type)}.v{spec.schema_version}"
        key = {"type": "string", "description": f"the record key: {spec.key}"}
        messages[message] = {
            "name": spec.event_type,
            "title": f"{spec.event_type} (schema version {spec.schema_version})",
            "summary": (spec.payload.__doc__ or "").strip().split("\n\n")[0],
            "contentType": "application/json",
            "headers": _record_headers(dead_letter=False),
            "payload": refs[envelope],
            "bindings": {"kafka": {"key": key, "bindingVersion": "0.5.0"}},
            "examples": [{"name": "one lead's journey", "payload": _example(spec)}],
        }
        channel = _id(spec.name)
        channels[channel] = {
            "address": spec.name,
            "description": f"produced by {', '.join(spec.producers)}; "
            f"consumed by {', '.join(spec.consumers)}; key {spec.key}",
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
            "bindings": _kafka_channel(spec, spec.name),
        }
        channels[_id(spec.dlq)] = {
            "address": spec.dlq,
            "description": f"records of {spec.name} a consumer gave up on, with the original "
            "key, value and headers plus the x-dlq-* context; consumed by dlq",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
            "bindings": _kafka_channel(spec, spec.dlq),
        }
        ref = {"$ref": f"#/channels/{channel}"}
        msg = [{"$ref": f"#/channels/{channel}/messages/{message}"}]
        for service in spec.producers:
            operations[f"{service}.send.{channel}"] = {
                "action": "send", "channel": ref, "messages": msg
            }  # fmt: skip
        for service in spec.consumers:
            operations[f"{service}.receive.{channel}"] = {
                "action": "receive", "channel": ref, "messages": msg
            }  # fmt: skip
        dead = [{"$ref": f"#/channels/{_id(spec.dlq)}/messages/deadLetter"}]
        for service in spec.consumers:
            operations[f"{service}.send.{_id(spec.dlq)}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{_id(spec.dlq)}"},
                "messages": dead,
            }  # fmt: skip
        operations[f"dlq.receive.{_id(spec.dlq)}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{_id(spec.dlq)}"},
            "messages": dead,
        }
    messages["deadLetter"] = {
        "name": "dead letter",
        "title": "A record a consumer gave up on",
        "summary": "The original record's key and value unchanged (maybe not valid JSON).",
        "headers": _record_headers(dead_letter=True),
        "payload": {},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Leadflow events",
            "version": VERSION,
            "description": "Every topic of the Leadflow pipeline (the registry in "
            "contracts/leadflow_contracts/topics.py). Every record's value is an envelope "
            "(event_id, event_type, schema_version, occurred_at, tenant_id, lead_id, "
            "correlation_id, causation_id, producer, payload) serialized as JSON.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "the broker of deploy/compose (make run: 127.0.0.1:9092)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": top.get("$defs", {})},
    }


def _example(spec: TopicSpec) -> Any:
    try:
        return load_example(spec.event_type, spec.schema_version)
    except FileNotFoundError:
        return None


def render(document: Document) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def outputs() -> dict[str, str]:
    """File name → content of what ``docs/asyncapi/`` must hold."""
    from leadflow_contracts.asyncapi_html import render_html

    document = build()
    return {"asyncapi.json": render(document), "index.html": render_html(document)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("check", "write"):
        print("usage: python -m leadflow_contracts.asyncapi check|write [DIR]", file=sys.stderr)
        return 2
    target = Path(args[1] if len(args) > 1 else "docs/asyncapi")
    stale = []
    for name, content in outputs().items():
        path = target / name
        if args[0] == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(str(path))
    if stale:
        print(f"not what the registry generates: {', '.join(stale)}; run `make contracts-write`")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
