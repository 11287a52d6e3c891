"""One trace per lead, however often its webhook is retried.

A sender retries a webhook that got 503 (or no answer) with the same webhook-id; each
attempt is a new HTTP request, and each would start a new trace. The lead's id is
deterministic (``lead_id_for``), so the webhook request's server span continues a
trace whose id *is* the lead id: every attempt, the accepted one included, and every
span downstream of it land in one trace, and an operator finds a lead's trace from its
id alone. A sender that sends its own ``traceparent`` keeps its own trace.
"""

from __future__ import annotations

import uuid

from leadflow_contracts import lead_id_for
from starlette.types import Scope

_PREFIX = "/v1/webhooks/"


def lead_traceparent(lead_id: uuid.UUID) -> str:
    """``traceparent`` of the (unrecorded) parent of every webhook request of a lead."""
    parent = uuid.uuid5(lead_id, "webhook").hex[:16]
    return f"00-{lead_id.hex}-{parent}-01"


def webhook_trace_seed(scope: Scope) -> str | None:
    path: str = scope.get("path", "")
    if scope.get("method") != "POST" or not path.startswith(_PREFIX):
        return None
    parts = path[len(_PREFIX) :].split("/")
    webhook_id = next((v for k, v in scope["headers"] if k == b"webhook-id"), None)
    if len(parts) != 2 or not all(parts) or webhook_id is None:
        return None
    tenant, source = parts  # ASGI paths are decoded already
    try:
        lead_id = lead_id_for(tenant, source, webhook_id.decode())
    except UnicodeDecodeError:
        return None
    return lead_traceparent(lead_id)
