"""Property: whatever the webhook door accepts, the pipeline carries — the
``lead.received`` envelope and the normalized lead survive orjson (the publisher and
the outbox) and the envelope parser every consumer runs, and hold no NUL (jsonb)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts import Envelope, LeadCreated, LeadReceived, Producer
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from leadflow_ingest.domain.normalize import UnusableLead, normalize, parse_body
from leadflow_ingest.domain.sources.registry import ADAPTERS
from servicekit.events import new_envelope
from servicekit.inputs import json_problem

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
hostile_text = st.text(alphabet=st.characters(codec="utf-8") | st.just("\x00"), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | hostile_text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=12,
)


def deep(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"d": leaf}
    return leaf


bodies = st.fixed_dictionaries(
    {"email": st.sampled_from(["a@corp.example", "b\x00@corp.example"])},
    optional={
        "first_name": hostile_text,
        "tags": st.lists(hostile_text, max_size=3),
        "custom": st.dictionaries(hostile_text, values, max_size=4)
        | st.builds(deep, st.integers(0, 260), values),
    },
)


@settings(max_examples=300, deadline=None)
@given(source=st.sampled_from(sorted(ADAPTERS)), body=bodies)
def test_what_the_door_accepts_the_pipeline_carries(source: str, body: dict[str, Any]) -> None:
    if json_problem(body) is not None:
        return  # refused with 422 at the door
    try:
        lead = normalize(
            parse_body(ADAPTERS[source], body),
            lead_id=uuid.uuid4(),
            tenant_id="t",
            source=source,
            default_region="DE",
            received_at=NOW,
        )
    except UnusableLead:
        return  # refused with 422 at the door
    producer = Producer(service="ingest", version="test")
    received = new_envelope(
        LEAD_RECEIVED,
        LeadReceived(source=source, webhook_id="w", received_at=NOW, body=body),
        producer=producer,
        event_id=uuid.uuid4(),
        tenant_id="t",
        lead_id=lead.lead_id,
        correlation_id="w",
        occurred_at=NOW,
    )
    created = new_envelope(LEAD_CREATED, LeadCreated(lead=lead), producer=producer, cause=received)
    for envelope, payload in ((received, LeadReceived), (created, LeadCreated)):
        raw = orjson.dumps(envelope.model_dump(mode="json"))
        assert b"\\u0000" not in raw
        assert Envelope[payload].model_validate_json(raw) == envelope  # type: ignore[valid-type]
