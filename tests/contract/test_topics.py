"""The topic registry spells exactly the topics of docs/architecture.md, each with its DLQ topic."""

from __future__ import annotations

import pytest
from leadflow_contracts.topics import (
    REGISTRY,
    TopicSpec,
    all_topics,
    dlq_topic,
    is_dlq_topic,
    spec_for,
)

# The topics table of docs/architecture.md, one row per topic: name -> (producers,
# consumers, key). The table is the public contract; change both together.
DESIGN_TABLE = {
    "lead.received": (("ingest",), ("ingest", "audit"), "lead_id"),
    "sales.lead.created": (("ingest",), ("scoring", "audit"), "lead_id"),
    "lead.scored": (("scoring",), ("audit",), "lead_id"),
    "lead.qualified": (("scoring",), ("router", "audit"), "lead_id"),
    "lead.assigned": (("router",), ("audit",), "lead_id"),
    "lead.routing_failed": (("router",), ("audit",), "lead_id"),
    "lead.sla_breached": (("router",), ("audit",), "lead_id"),
    "lead.reassigned": (("router",), ("audit",), "lead_id"),
    # Every service whose admin API changes something; audit's API only reads.
    "config.changed": (("ingest", "scoring", "router", "dlq"), ("audit",), "tenant_id"),
}


def test_topic_names_match_the_design_table() -> None:
    assert sorted(spec.name for spec in REGISTRY) == sorted(DESIGN_TABLE)


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.name)
def test_producers_consumers_and_key_match_the_design_table(spec: TopicSpec) -> None:
    assert (spec.producers, spec.consumers, spec.key) == DESIGN_TABLE[spec.name]


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.name)
def test_every_topic_has_a_dlq_topic(spec: TopicSpec) -> None:
    assert spec.dlq == f"{spec.name}.dlq" == dlq_topic(spec.name)
    assert is_dlq_topic(spec.dlq)
    assert not is_dlq_topic(spec.name)
    assert spec.dlq in all_topics()


def test_event_types_are_unique() -> None:
    event_types = [spec.event_type for spec in REGISTRY]
    assert len(set(event_types)) == len(event_types)


def test_unknown_topic_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"lead\.received"):
        spec_for("lead.recieved")


def test_every_event_type_is_its_topic_name_but_the_documented_one() -> None:
    # sales.lead.created → lead.created is the one mapping (see the registry's docstring);
    # any other topic whose events are named differently is a new inconsistency.
    renamed = {spec.name: spec.event_type for spec in REGISTRY if spec.name != spec.event_type}
    assert renamed == {"sales.lead.created": "lead.created"}
