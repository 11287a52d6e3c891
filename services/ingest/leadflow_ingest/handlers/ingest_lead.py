"""The ingest worker: ``lead.received`` → normalized, de-duplicated ``sales.lead.created``.

Idempotent under redelivery: the inbox (keyed by the input's ``event_id``) makes the
lead row, the duplicate decision and the output event happen once; a redelivered input
re-publishes the stored ``lead.created`` (same deterministic ``event_id``). A payload
that can never become a lead raises ``InvalidMessage`` → ``lead.received.dlq``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts import Envelope, LeadCreated, LeadReceived, Producer
from leadflow_contracts.topics import LEAD_CREATED, LEAD_RECEIVED
from servicekit.consumer import Delivery
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing, new_envelope
from servicekit.inbox import Inbox
from servicekit.metrics import ServiceMetrics
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters.lead_store import (
    earliest_match,
    lock_contacts,
    save_lead,
    window_start,
)
from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.domain.normalize import UnusableLead, normalize, parse_body
from leadflow_ingest.domain.sources.registry import adapter_for


@dataclass
class IngestLead:
    inbox: Inbox
    tenants: TenantConfigCache
    producer: Producer
    metrics: ServiceMetrics
    duplicate_window_days: int
    clock: Callable[[], datetime]

    async def __call__(self, envelope: Envelope[Any], delivery: Delivery) -> None:
        received: LeadReceived = envelope.payload
        if envelope.lead_id is None:
            raise InvalidMessage("lead.received without lead_id")
        adapter = adapter_for(received.source)
        if adapter is None:
            raise InvalidMessage(f"unknown source {received.source!r}")
        tenant = await self.tenants.get(envelope.tenant_id)
        if tenant is None:
            raise InvalidMessage(f"unknown tenant {envelope.tenant_id!r}")
        try:
            lead = normalize(
                parse_body(adapter, received.body),
                lead_id=envelope.lead_id,
                tenant_id=envelope.tenant_id,
                source=received.source,
                default_region=tenant.default_region,
                received_at=received.received_at,
                sla_minutes=received.sla_minutes,
            )
        except UnusableLead as exc:
            raise InvalidMessage(f"unusable lead: {exc}") from exc

        async def apply(session: AsyncSession) -> list[Outgoing]:
            contacts = [f"e:{lead.email}"] if lead.email else []
            contacts += [f"p:{lead.phone}"] if lead.phone else []
            await lock_contacts(session, lead.tenant_id, contacts)
            original = await earliest_match(
                session,
                tenant=lead.tenant_id,
                lead_id=lead.lead_id,
                email=lead.email,
                phone=lead.phone,
                since=window_start(lead.received_at, self.duplicate_window_days),
                until=lead.received_at,
            )
            final = lead.model_copy(update={"duplicate_of": original})
            await save_lead(session, final)
            created = new_envelope(
                LEAD_CREATED, LeadCreated(lead=final), producer=self.producer, cause=envelope
            )
            return [Outgoing.of(LEAD_CREATED, created)]

        await self.inbox.handle(envelope.event_id, LEAD_RECEIVED.name, apply)
        self.metrics.stage_latency.labels(self.metrics.service, "lead.created").observe(
            max(0.0, (self.clock() - received.received_at).total_seconds())
        )
