"""Every event has a realistic example that validates, and the examples tell one story.

The examples follow one lead through the pipeline, so their ids must be exactly the
deterministic ids the ``ids`` helpers give along the causation chain.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from importlib import resources
from typing import Any

import pytest
from leadflow_contracts.envelope import Envelope
from leadflow_contracts.examples import load_example
from leadflow_contracts.ids import derived_event_id, lead_id_for, received_event_id
from leadflow_contracts.topics import BY_EVENT_TYPE, REGISTRY, TopicSpec

# event type -> the event type of its cause, along the journey of one lead.
CAUSED_BY = {
    "lead.created": "lead.received",
    "lead.scored": "lead.created",
    "lead.qualified": "lead.created",
    "lead.assigned": "lead.qualified",
    "lead.routing_failed": "lead.qualified",
    "lead.sla_breached": "lead.assigned",
    "lead.reassigned": "lead.sla_breached",
}


def current(event_type: str) -> dict[str, Any]:
    return load_example(event_type, BY_EVENT_TYPE[event_type].schema_version)


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.event_type)
def test_example_validates_and_matches_the_registry(spec: TopicSpec) -> None:
    example = load_example(spec.event_type, spec.schema_version)
    envelope = Envelope[spec.payload].model_validate(example)  # type: ignore[name-defined]
    assert envelope.event_type == spec.event_type
    assert envelope.schema_version == spec.schema_version
    assert envelope.producer.service in spec.producers
    # Unknown fields are ignored on read, so a misspelt field would vanish silently:
    # every field the example spells must survive a round trip unchanged.
    assert envelope.model_dump(mode="json", exclude_unset=True) == example


def test_lead_received_example_starts_the_chain() -> None:
    received = current("lead.received")
    payload = received["payload"]
    lead_id = lead_id_for(received["tenant_id"], payload["source"], payload["webhook_id"])
    assert received["lead_id"] == str(lead_id)
    assert received["event_id"] == str(received_event_id(lead_id))
    assert received["causation_id"] is None
    assert received["correlation_id"] == payload["webhook_id"]


@pytest.mark.parametrize(("event_type", "cause_type"), sorted(CAUSED_BY.items()))
def test_example_ids_follow_the_causation_chain(event_type: str, cause_type: str) -> None:
    example, cause, received = current(event_type), current(cause_type), current("lead.received")
    cause_id = uuid.UUID(cause["event_id"])
    assert example["causation_id"] == str(cause_id)
    assert example["event_id"] == str(derived_event_id(cause_id, event_type))
    for field in ("tenant_id", "lead_id", "correlation_id"):
        assert example[field] == received[field], field
    occurred = datetime.fromisoformat(example["occurred_at"])
    assert occurred >= datetime.fromisoformat(cause["occurred_at"])


def test_every_lead_event_is_on_the_chain() -> None:
    lead_events = {spec.event_type for spec in REGISTRY if spec.key == "lead_id"}
    assert lead_events == set(CAUSED_BY) | {"lead.received"}


@pytest.mark.parametrize("event_type", ["lead.created", "lead.qualified"])
def test_lead_snapshot_belongs_to_the_envelope(event_type: str) -> None:
    example = current(event_type)
    lead = example["payload"]["lead"]
    assert (lead["lead_id"], lead["tenant_id"]) == (example["lead_id"], example["tenant_id"])


def test_config_changed_example_concerns_no_lead() -> None:
    example = current("config.changed")
    envelope = Envelope[BY_EVENT_TYPE["config.changed"].payload].model_validate(example)  # type: ignore[name-defined]
    assert envelope.lead_id is None
    assert envelope.partition_key() == example["tenant_id"].encode()


def test_every_example_file_belongs_to_a_registered_version() -> None:
    folder = resources.files("leadflow_contracts") / "examples"
    names = [entry.name for entry in folder.iterdir() if entry.name.endswith(".json")]
    for name in names:
        match = re.fullmatch(r"(.+)\.v(\d+)\.json", name)
        assert match, f"{name} is not named <event_type>.v<schema_version>.json"
        event_type, version = match[1], int(match[2])
        assert event_type in BY_EVENT_TYPE, f"{name}: unknown event type"
        assert 1 <= version <= BY_EVENT_TYPE[event_type].schema_version, f"{name}: bad version"
    assert len(names) >= len(REGISTRY)


def test_a_missing_example_says_which_file() -> None:
    with pytest.raises(FileNotFoundError, match=r"lead\.assigned\.v99\.json"):
        load_example("lead.assigned", 99)
