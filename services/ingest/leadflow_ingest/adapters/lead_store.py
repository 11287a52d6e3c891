"""Persisted normalized leads and the duplicate look-up."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import Lead
from servicekit.tables import insert_rows
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters.tables import leads


@dataclass(frozen=True)
class Match:
    """An earlier lead with the same contact, as the duplicate look-up orders them."""

    received_at: datetime
    lead_id: uuid.UUID


@dataclass(frozen=True)
class Probe:
    """One lead's duplicate look-up: same tenant, email or phone, received in
    [since, until], not the lead itself."""

    tenant: str
    lead_id: uuid.UUID
    email: str | None
    phone: str | None
    since: datetime
    until: datetime


def contact_lock_keys(tenant: str, email: str | None, phone: str | None) -> list[str]:
    keys = [f"e:{email}"] if email else []
    keys += [f"p:{phone}"] if phone else []
    return [f"ingest:{tenant}:{key}" for key in keys]


_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0))"
    " FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t (k, i) ORDER BY i"
)


async def lock_contacts(session: AsyncSession, keys: list[str]) -> None:
    """Serialize concurrent leads of one tenant that share an email or phone.

    Transaction-scoped advisory locks on ``contact_lock_keys``, taken in one statement in
    sorted order (no lock-order deadlock between batches), so two leads with the same
    contact arriving on different partitions cannot both miss each other in the
    duplicate look-up.
    """
    if keys:
        await session.execute(_LOCK, {"keys": sorted(set(keys))})


# One ordered index probe per contact (ix_leads_tenant_email / ix_leads_tenant_phone:
# equality on tenant and contact, range and order on received_at), then the earlier of
# the two. A single ``email = … OR phone = …`` condition let the planner pick one index
# by tenant alone while the table's statistics were young, and filter every lead of the
# tenant on each look-up (bench/README.md has the figures).
_EARLIEST = text(
    """
    SELECT g.i, m.received_at, m.lead_id
    FROM unnest(
        CAST(:i AS int[]), CAST(:tenant AS text[]), CAST(:lead_id AS uuid[]),
        CAST(:email AS text[]), CAST(:phone AS text[]),
        CAST(:since AS timestamptz[]), CAST(:until AS timestamptz[])
    ) AS g (i, tenant, lead_id, email, phone, since, until)
    CROSS JOIN LATERAL (
        SELECT c.received_at, c.lead_id FROM (
            (SELECT l.received_at, l.lead_id FROM leads AS l
             WHERE l.tenant = g.tenant AND l.email = g.email
               AND l.received_at >= g.since AND l.received_at <= g.until
               AND l.lead_id <> g.lead_id
             ORDER BY l.received_at, l.lead_id
             LIMIT 1)
            UNION ALL
            (SELECT l.received_at, l.lead_id FROM leads AS l
             WHERE l.tenant = g.tenant AND l.phone = g.phone
               AND l.received_at >= g.since AND l.received_at <= g.until
               AND l.lead_id <> g.lead_id
             ORDER BY l.received_at, l.lead_id
             LIMIT 1)
        ) AS c
        ORDER BY c.received_at, c.lead_id
        LIMIT 1
    ) AS m
    """
)


async def earliest_matches(session: AsyncSession, probes: Sequence[Probe]) -> dict[int, Match]:
    """For each probe (by position) the earliest stored lead it duplicates, if any.

    ``until`` is the lead's own receipt: a lead is never flagged as a duplicate of one
    that arrived after it (two near-simultaneous leads on different partitions may then
    both stay unflagged — a missed flag, never a wrong one)."""
    wanted = [(i, p) for i, p in enumerate(probes) if p.email or p.phone]
    if not wanted:
        return {}
    rows = await session.execute(
        _EARLIEST,
        {
            "i": [i for i, _ in wanted],
            "tenant": [p.tenant for _, p in wanted],
            "lead_id": [p.lead_id for _, p in wanted],
            "email": [p.email for _, p in wanted],
            "phone": [p.phone for _, p in wanted],
            "since": [p.since for _, p in wanted],
            "until": [p.until for _, p in wanted],
        },
    )
    return {i: Match(received_at, lead_id) for i, received_at, lead_id in rows.all()}


async def save_leads(session: AsyncSession, batch: Sequence[Lead]) -> None:
    if not batch:
        return
    await insert_rows(
        session,
        leads,
        [
            {
                "lead_id": lead.lead_id,
                "tenant": lead.tenant_id,
                "source": lead.source,
                "email": lead.email,
                "phone": lead.phone,
                "received_at": lead.received_at,
                "duplicate_of": lead.duplicate_of,
                "lead": lead.model_dump(mode="json"),
            }
            for lead in batch
        ],
    )


async def load_lead(
    session: AsyncSession, lead_id: uuid.UUID, tenants: tuple[str, ...] | None
) -> dict[str, Any] | None:
    query = select(leads.c.lead).where(leads.c.lead_id == lead_id)
    if tenants is not None:
        query = query.where(leads.c.tenant.in_(tenants))
    found: dict[str, Any] | None = await session.scalar(query)
    return found


def window_start(received_at: datetime, days: int) -> datetime:
    return received_at - timedelta(days=days)


async def find_leads(
    session: AsyncSession, tenant: str, *, email: str | None, phone: str | None, limit: int
) -> list[Lead]:
    """The tenant's leads with that email or phone, newest first (one index probe each:
    ``ix_leads_tenant_email`` / ``ix_leads_tenant_phone``)."""
    found: dict[uuid.UUID, tuple[datetime, Lead]] = {}
    for column, value in ((leads.c.email, email), (leads.c.phone, phone)):
        if value is None:
            continue
        rows = await session.execute(
            select(leads.c.lead, leads.c.received_at)
            .where(leads.c.tenant == tenant, column == value)
            .order_by(leads.c.received_at.desc())
            .limit(limit)
        )
        for stored, received_at in rows.all():
            lead = Lead.model_validate(stored)
            found[lead.lead_id] = (received_at, lead)
    newest = sorted(found.values(), key=lambda pair: pair[0], reverse=True)
    return [lead for _, lead in newest[:limit]]
