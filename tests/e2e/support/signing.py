"""Fresh webhook ids. Signatures are made by the official package in the launcher's demo
client (``leadflow_local.demo.client.signed_headers``), which the journeys' client is."""

from __future__ import annotations

import uuid


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"
