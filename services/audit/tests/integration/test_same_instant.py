"""Events one decision stamps with the same instant (``lead.scored`` and
``lead.qualified``) read in pipeline order, whichever topic audit consumed first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from leadflow_audit.adapters.store import EventStore
from leadflow_audit.handlers.consume_events import AuditConsumer
from servicekit.events import Outgoing
from servicekit.testing.helpers import consumer_record, eventually

STEPS = ["received", "created", "scored", "qualified", "assigned"]
TYPES = ["lead.received", "lead.created", "lead.scored", "lead.qualified", "lead.assigned"]


def same_instant(journey: list[Any]) -> list[Any]:
    """The journey with ``lead.qualified`` stamped at ``lead.scored``'s instant."""
    (_, scored), (spec, qualified) = journey[2], journey[3]
    journey[3] = (spec, qualified.model_copy(update={"occurred_at": scored.occurred_at}))
    return journey


async def timeline(audit: Any, tenant: str, lead_id: Any, count: int) -> list[dict[str, Any]]:
    viewer = audit.token([tenant])

    async def probe() -> list[dict[str, Any]] | None:
        response = await audit.http.get(f"/v1/leads/{lead_id}/timeline", headers=viewer)
        if response.status_code != 200:
            return None
        events: list[dict[str, Any]] = response.json()["events"]
        return events if len(events) == count else None

    found: list[dict[str, Any]] = await eventually(probe, what=f"{count} events of {lead_id}")
    return found


async def test_qualified_consumed_before_scored_still_reads_after_it(
    audit: Any, make_journey: Callable[..., Any], unique: str
) -> None:
    tenant = f"acme-{unique}"
    journey = same_instant(make_journey(tenant, f"wh-{unique}", datetime.now(UTC), STEPS))
    lead_id = journey[0][1].lead_id
    # lead.qualified is appended first, in a batch of its own.
    for spec, envelope in [*journey[:2], journey[3]]:
        await audit.publish(spec, envelope)
    await timeline(audit, tenant, lead_id, 3)
    for spec, envelope in [journey[2], journey[4]]:
        await audit.publish(spec, envelope)
    events = await timeline(audit, tenant, lead_id, 5)
    assert [e["event_type"] for e in events] == TYPES
    by_type = {e["event_type"]: e["position"] for e in events}
    assert by_type["lead.qualified"] < by_type["lead.scored"]  # the case under test


async def test_a_batch_is_appended_in_occurred_at_then_pipeline_order(
    audit: Any, make_journey: Callable[..., Any], unique: str
) -> None:
    tenant = f"acme-{unique}"
    journey = same_instant(make_journey(tenant, f"wh-{unique}", datetime.now(UTC), STEPS))
    lead_id = journey[0][1].lead_id
    prefix = audit.settings.topic_prefix
    # One batch as a multi-topic fetch may hand it over: the last topics first.
    records = [
        consumer_record(prefix + spec.name, Outgoing.of(spec, envelope), offset)
        for offset, (spec, envelope) in enumerate(reversed(journey))
    ]
    await AuditConsumer(audit.runtime, EventStore(audit.runtime.sessions)).handle_batch(
        tuple(records)
    )
    events = await timeline(audit, tenant, lead_id, 5)
    assert [e["event_type"] for e in events] == TYPES
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
