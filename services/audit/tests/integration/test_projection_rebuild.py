"""The lead-status projection: live (arrival order, many batches) == rebuilt from events."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from leadflow_audit import cli
from leadflow_audit.settings import Settings
from servicekit.testing.helpers import eventually
from sqlalchemy import text

Q = ["received", "created", "scored", "qualified"]
#: (steps, qualified, final stage): every branch of the pipeline.
VARIANTS: list[tuple[list[str], bool, str]] = [
    (["received"], True, "received"),
    (["received", "created"], True, "created"),
    (["received", "created", "scored"], False, "not_qualified"),
    (Q, True, "qualified"),
    ([*Q, "assigned"], True, "assigned"),
    ([*Q, "routing_failed"], True, "in_work_queue"),
    ([*Q, "routing_failed", "assigned"], True, "assigned"),
    ([*Q, "assigned", "sla_breached"], True, "sla_breached"),
    ([*Q, "assigned", "sla_breached", "reassigned"], True, "reassigned"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Small batches: the live projection is merged across many transactions.
    return settings.model_copy(update={"audit_batch_max_records": 25})


async def _snapshot(audit: Any) -> list[Any]:
    async with audit.runtime.engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM lead_status ORDER BY lead_id"))
        return [tuple(row) for row in rows]


async def test_rebuild_equals_live_projection_after_hundreds_of_mixed_events(
    audit: Any, make_journey: Callable[..., Any], make_config_changed: Any, unique: str
) -> None:
    rng = random.Random(unique)
    start = datetime.now(UTC) - timedelta(hours=2)
    events: list[Any] = []
    expected: dict[str, str] = {}
    for i in range(80):
        steps, qualified, final = VARIANTS[i % len(VARIANTS)]
        tenant = f"t{i % 3}-{unique}"
        journey = make_journey(
            tenant, f"wh-{i}-{unique}", start + timedelta(seconds=i), steps, qualified=qualified
        )
        expected[str(journey[0][1].lead_id)] = final
        events.extend(journey)
    events.extend(make_config_changed(f"t0-{unique}", f"r{i}", start) for i in range(5))
    rng.shuffle(events)  # arrival order has nothing to do with the journeys
    for chunk in range(0, len(events), 40):
        await asyncio.gather(*(audit.publish(s, e) for s, e in events[chunk : chunk + 40]))

    async def all_appended() -> bool:
        async with audit.runtime.engine.connect() as conn:
            return await conn.scalar(text("SELECT count(*) FROM events")) == len(events)

    await eventually(all_appended, timeout_s=60, what=f"{len(events)} events appended")
    live = await _snapshot(audit)
    assert {str(row[0]): row[2] for row in live} == expected

    assert await cli.run("rebuild-projection", audit.settings) == {"leads": len(expected)}
    assert await _snapshot(audit) == live
    verdict = await cli.run("verify", audit.settings)
    assert verdict["ok"] is True
    assert verdict["count"] == len(events)
