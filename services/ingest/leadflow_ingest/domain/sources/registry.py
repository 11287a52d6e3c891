"""Source name → adapter. The ``{source}`` of the webhook URL must be listed here."""

from __future__ import annotations

from typing import Any

from leadflow_ingest.domain.sources import generic, ghl
from leadflow_ingest.domain.sources.adapter import SourceAdapter

ADAPTERS: dict[str, SourceAdapter] = {a.name: a for a in (generic.ADAPTER, ghl.ADAPTER)}


def adapter_for(source: str) -> SourceAdapter | None:
    return ADAPTERS.get(source)


def inline_schema(model: Any) -> dict[str, Any]:
    """The model's JSON Schema with ``$defs`` inlined (embeddable anywhere in OpenAPI)."""
    schema: dict[str, Any] = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
