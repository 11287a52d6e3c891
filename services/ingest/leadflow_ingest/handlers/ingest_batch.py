"""``lead.received`` → normalized, de-duplicated ``sales.lead.created``, a batch at a time.

Per batch, in one transaction (``servicekit.batch.BatchConsumer`` claims the event ids in
the inbox first and records the outputs after, so a redelivery re-publishes the very same
records): every new lead is normalized, the contact locks of all of them are taken in
one statement, one statement finds each lead's earliest stored duplicate, the batch's own
earlier leads are matched in memory (``domain.duplicates``), and all leads are inserted
in one statement.

Equivalent to handling the events one by one in batch order (the one-by-one fallback of
``servicekit.batch`` relies on it). A payload that can never become a lead (unknown
tenant or source, no usable contact) raises ``InvalidMessage``: the batch fails, its
records are handled one by one, and only that record is dead-lettered.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import Envelope, Lead, LeadCreated, LeadReceived, Producer
from leadflow_contracts.topics import LEAD_CREATED
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing, new_envelope
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters.lead_store import (
    Probe,
    contact_lock_keys,
    earliest_matches,
    lock_contacts,
    save_leads,
)
from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.domain.duplicates import duplicates_in_batch
from leadflow_ingest.domain.normalize import UnusableLead, normalize, parse_body
from leadflow_ingest.domain.sources.registry import adapter_for

#: Leads normalized between two yields to the event loop (the webhook API shares it).
_YIELD_EVERY = 25


@dataclass
class Handled:
    """What became of one new ``lead.received``: ``outcome`` ``created``."""

    outcome: str
    outputs: list[Outgoing] = field(default_factory=list)
    #: For a lead created now: its receipt at the webhook → created, in seconds.
    waited_s: float | None = None


async def to_lead(envelope: Envelope[Any], tenants: TenantConfigCache) -> Lead:
    received: LeadReceived = envelope.payload
    if envelope.lead_id is None:
        raise InvalidMessage("lead.received without lead_id")
    adapter = adapter_for(received.source)
    if adapter is None:
        raise InvalidMessage(f"unknown source {received.source!r}")
    tenant = await tenants.get(envelope.tenant_id)
    if tenant is None:
        raise InvalidMessage(f"unknown tenant {envelope.tenant_id!r}")
    try:
        return normalize(
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


async def ingest_batch(
    session: AsyncSession,
    fresh: Sequence[Envelope[Any]],
    *,
    tenants: TenantConfigCache,
    producer: Producer,
    duplicate_window: timedelta,
    clock: Callable[[], datetime],
) -> dict[uuid.UUID, Handled]:
    """Ingest ``fresh`` (distinct event ids never handled before, in order) inside
    ``session``'s transaction (the inbox claim and outputs are ``BatchConsumer``'s)."""
    handled: dict[uuid.UUID, Handled] = {}
    leads = []
    for n, envelope in enumerate(fresh, 1):
        leads.append(await to_lead(envelope, tenants))
        if n % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    await lock_contacts(
        session,
        [k for lead in leads for k in contact_lock_keys(lead.tenant_id, lead.email, lead.phone)],
    )
    probes = [
        Probe(
            lead.tenant_id,
            lead.lead_id,
            lead.email,
            lead.phone,
            lead.received_at - duplicate_window,
            lead.received_at,
        )
        for lead in leads
    ]
    matches = await earliest_matches(session, probes)
    earlier = {i: (m.received_at, m.lead_id) for i, m in matches.items()}
    originals = duplicates_in_batch(leads, earlier, duplicate_window)
    finals = [
        lead.model_copy(update={"duplicate_of": original})
        for lead, original in zip(leads, originals, strict=True)
    ]
    await save_leads(session, finals)
    now = clock()
    for envelope, lead in zip(fresh, finals, strict=True):
        created = new_envelope(
            LEAD_CREATED, LeadCreated(lead=lead), producer=producer, cause=envelope, occurred_at=now
        )
        waited = max(0.0, (now - lead.received_at).total_seconds())
        handled[envelope.event_id] = Handled(
            "created", [Outgoing.of(LEAD_CREATED, created)], waited
        )
    return handled
