"""The topic registry: the single place that spells topic names in code.

One entry per topic: its event type, payload model, schema version, who produces and
consumes it, how it is keyed, and how it is created (partitions, retention).

Every event type is its topic's name, with one documented exception kept for
compatibility: the topic ``sales.lead.created`` carries events typed ``lead.created``.
Both names are public (the topic name in every deployment's broker and ACLs; the event
type in every stored envelope, the ``event-type`` header, audit's append-only,
hash-chained store and the ``lead.created.v1`` schema snapshot), so renaming either
would break readers of data that already exists. This registry entry is the mapping;
``BY_NAME`` and ``BY_EVENT_TYPE`` look up either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from leadflow_contracts.config import ConfigChanged
from leadflow_contracts.lead import LeadCreated, LeadReceived
from leadflow_contracts.routing import (
    LeadAssigned,
    LeadReassigned,
    LeadRoutingFailed,
    LeadSlaBreached,
)
from leadflow_contracts.scoring import LeadQualified, LeadScored

DLQ_SUFFIX = ".dlq"
WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    event_type: str
    payload: type[BaseModel]
    schema_version: int
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    key: Literal["lead_id", "tenant_id"] = "lead_id"
    partitions: int = 4
    retention_ms: int = WEEK_MS

    @property
    def dlq(self) -> str:
        return dlq_topic(self.name)


LEAD_RECEIVED = TopicSpec(
    "lead.received", "lead.received", LeadReceived, 1, ("ingest",), ("ingest", "audit")
)
LEAD_CREATED = TopicSpec(
    "sales.lead.created", "lead.created", LeadCreated, 1, ("ingest",), ("scoring", "audit")
)
LEAD_SCORED = TopicSpec("lead.scored", "lead.scored", LeadScored, 1, ("scoring",), ("audit",))
LEAD_QUALIFIED = TopicSpec(
    "lead.qualified", "lead.qualified", LeadQualified, 1, ("scoring",), ("router", "audit")
)
LEAD_ASSIGNED = TopicSpec(
    "lead.assigned", "lead.assigned", LeadAssigned, 1, ("router",), ("audit",)
)
LEAD_ROUTING_FAILED = TopicSpec(
    "lead.routing_failed", "lead.routing_failed", LeadRoutingFailed, 1, ("router",), ("audit",)
)
LEAD_SLA_BREACHED = TopicSpec(
    "lead.sla_breached", "lead.sla_breached", LeadSlaBreached, 1, ("router",), ("audit",)
)
LEAD_REASSIGNED = TopicSpec(
    "lead.reassigned", "lead.reassigned", LeadReassigned, 1, ("router",), ("audit",)
)
CONFIG_CHANGED = TopicSpec(
    "config.changed",
    "config.changed",
    ConfigChanged,
    1,
    ("ingest", "scoring", "router", "dlq"),
    ("audit",),
    key="tenant_id",
)

REGISTRY: tuple[TopicSpec, ...] = (
    LEAD_RECEIVED,
    LEAD_CREATED,
    LEAD_SCORED,
    LEAD_QUALIFIED,
    LEAD_ASSIGNED,
    LEAD_ROUTING_FAILED,
    LEAD_SLA_BREACHED,
    LEAD_REASSIGNED,
    CONFIG_CHANGED,
)

BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in REGISTRY}
BY_EVENT_TYPE: dict[str, TopicSpec] = {spec.event_type: spec for spec in REGISTRY}


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``: ``<topic>.dlq``."""
    return f"{topic}{DLQ_SUFFIX}"


def is_dlq_topic(topic: str) -> bool:
    return topic.endswith(DLQ_SUFFIX)


def all_topics() -> list[str]:
    """Every topic the system uses: the domain topics and their dead-letter topics."""
    return [spec.name for spec in REGISTRY] + [spec.dlq for spec in REGISTRY]


def spec_for(topic: str) -> TopicSpec:
    try:
        return BY_NAME[topic]
    except KeyError:
        raise KeyError(f"unknown topic {topic!r}; known: {sorted(BY_NAME)}") from None
