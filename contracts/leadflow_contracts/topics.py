"""The topic registry: the single place that spells topic names in code.

One entry per topic: its event type, payload model, schema version, who produces and
consumes it, how it is keyed, and how it is created (partitions, retention).
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


@dataclass(frozen=True, kw_only=True)
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
    name="lead.received",
    event_type="lead.received",
    payload=LeadReceived,
    schema_version=1,
    producers=("ingest",),
    consumers=("ingest", "audit"),
)
LEAD_CREATED = TopicSpec(
    name="sales.lead.created",
    event_type="lead.created",
    payload=LeadCreated,
    schema_version=1,
    producers=("ingest",),
    consumers=("scoring", "audit"),
)
LEAD_SCORED = TopicSpec(
    name="lead.scored",
    event_type="lead.scored",
    payload=LeadScored,
    schema_version=1,
    producers=("scoring",),
    consumers=("audit",),
)
LEAD_QUALIFIED = TopicSpec(
    name="lead.qualified",
    event_type="lead.qualified",
    payload=LeadQualified,
    schema_version=1,
    producers=("scoring",),
    consumers=("router", "audit"),
)
LEAD_ASSIGNED = TopicSpec(
    name="lead.assigned",
    event_type="lead.assigned",
    payload=LeadAssigned,
    schema_version=1,
    producers=("router",),
    consumers=("audit",),
)
LEAD_ROUTING_FAILED = TopicSpec(
    name="lead.routing_failed",
    event_type="lead.routing_failed",
    payload=LeadRoutingFailed,
    schema_version=1,
    producers=("router",),
    consumers=("audit",),
)
LEAD_SLA_BREACHED = TopicSpec(
    name="lead.sla_breached",
    event_type="lead.sla_breached",
    payload=LeadSlaBreached,
    schema_version=1,
    producers=("router",),
    consumers=("audit",),
)
LEAD_REASSIGNED = TopicSpec(
    name="lead.reassigned",
    event_type="lead.reassigned",
    payload=LeadReassigned,
    schema_version=1,
    producers=("router",),
    consumers=("audit",),
)
CONFIG_CHANGED = TopicSpec(
    name="config.changed",
    event_type="config.changed",
    payload=ConfigChanged,
    schema_version=1,
    producers=("ingest", "scoring", "router", "audit", "dlq"),
    consumers=("audit",),
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
