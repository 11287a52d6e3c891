"""Leadflow contracts: pydantic v2 models shared by every service. No I/O, no Kafka."""

from leadflow_contracts.config import ConfigChanged
from leadflow_contracts.envelope import Envelope, Producer, utcnow
from leadflow_contracts.ids import derived_event_id, lead_id_for, received_event_id
from leadflow_contracts.lead import Lead, LeadCreated, LeadReceived, Utm
from leadflow_contracts.routing import (
    Candidate,
    LeadAssigned,
    LeadReassigned,
    LeadRoutingFailed,
    LeadSlaBreached,
)
from leadflow_contracts.scoring import LeadQualified, LeadScored, ScoreReason
from leadflow_contracts.topics import REGISTRY, TopicSpec, dlq_topic, spec_for

__all__ = [
    "REGISTRY",
    "Candidate",
    "ConfigChanged",
    "Envelope",
    "Lead",
    "LeadAssigned",
    "LeadCreated",
    "LeadQualified",
    "LeadReassigned",
    "LeadReceived",
    "LeadRoutingFailed",
    "LeadScored",
    "LeadSlaBreached",
    "Producer",
    "ScoreReason",
    "TopicSpec",
    "Utm",
    "derived_event_id",
    "dlq_topic",
    "lead_id_for",
    "received_event_id",
    "spec_for",
    "utcnow",
]
