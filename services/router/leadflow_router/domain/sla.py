"""When an assignment must be acknowledged.

``sla_due_at = decided_at + lead.sla_minutes``. ``Lead.sla_minutes`` is the tenant
tier's response SLA, stamped on the lead by ingest when the webhook arrived (so a later
tier change does not move deadlines of leads already in flight). A lead without it gets
the router's ``LEADFLOW_DEFAULT_SLA_MINUTES``. Each reassignment starts a fresh SLA.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from leadflow_contracts.lead import Lead


def sla_due_at(lead: Lead, decided_at: datetime, default_minutes: int) -> datetime:
    return decided_at + timedelta(minutes=lead.sla_minutes or default_minutes)
