"""The audit timeline of a lead, waited for."""

from __future__ import annotations

import uuid
from typing import Any

from servicekit.testing.helpers import eventually

from tests.e2e.support.api_client import Api
from tests.e2e.support.deployment import PIPELINE_TIMEOUT_S


async def wait_timeline(
    api: Api, slug: str, lead_id: uuid.UUID, *types: str, timeout_s: float = PIPELINE_TIMEOUT_S
) -> dict[str, Any]:
    """The lead's audit timeline once it holds at least the given event types."""

    async def probe() -> dict[str, Any] | None:
        response = await api.timeline(slug, lead_id)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        seen = [e["event_type"] for e in body["events"]]
        return body if all(seen.count(t) >= types.count(t) for t in types) else None

    body: dict[str, Any] = await eventually(
        probe, timeout_s=timeout_s, what=f"audit timeline of {lead_id} with {types}"
    )
    return body
