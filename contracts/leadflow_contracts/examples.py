"""Example envelopes: one realistic message per event and schema version.

``examples/<event_type>.v<schema_version>.json`` follows one lead through the pipeline
(a GoHighLevel contact webhook for tenant ``nordlicht``); its ids are the deterministic
ones that the ``ids`` helpers give, so the examples also document the causation chain.
They are package data, read through ``importlib.resources`` so that services, docs and
tests can load them from an installed wheel as well as from the source tree.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def example_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def load_example(event_type: str, version: int) -> dict[str, Any]:
    """The example envelope of ``event_type`` at ``version``, as parsed JSON.

    Raises ``FileNotFoundError`` naming the missing file when there is no such example.
    """
    name = example_name(event_type, version)
    resource = resources.files("leadflow_contracts") / "examples" / name
    if not resource.is_file():
        raise FileNotFoundError(f"no example {name} in leadflow_contracts/examples/")
    loaded: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return loaded
