"""Persisted normalized leads and the duplicate look-up."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from leadflow_contracts import Lead
from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters.tables import leads


async def lock_contacts(session: AsyncSession, tenant: str, keys: list[str]) -> None:
    """Serialize concurrent leads of one tenant that share an email or phone.

    Transaction-scoped advisory locks, taken in sorted order (no lock-order deadlock), so
    two leads with the same contact arriving on different partitions cannot both miss
    each other in the duplicate look-up.
    """
    for key in sorted(set(keys)):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"ingest:{tenant}:{key}"},
        )


async def earliest_match(
    session: AsyncSession,
    *,
    tenant: str,
    lead_id: uuid.UUID,
    email: str | None,
    phone: str | None,
    since: datetime,
    until: datetime,
) -> uuid.UUID | None:
    """The earliest other lead of ``tenant`` received in [since, until] with the same
    email or phone. ``until`` is this lead's own receipt: a lead is never flagged as a
    duplicate of one that arrived after it (two near-simultaneous leads on different
    partitions may then both stay unflagged — a missed flag, never a wrong one)."""
    matches = []
    if email:
        matches.append(leads.c.email == email)
    if phone:
        matches.append(leads.c.phone == phone)
    if not matches:
        return None
    found: uuid.UUID | None = await session.scalar(
        select(leads.c.lead_id)
        .where(
            leads.c.tenant == tenant,
            leads.c.lead_id != lead_id,
            leads.c.received_at >= since,
            leads.c.received_at <= until,
            or_(*matches),
        )
        .order_by(leads.c.received_at, leads.c.lead_id)
        .limit(1)
    )
    return found


async def save_lead(session: AsyncSession, lead: Lead) -> None:
    await session.execute(
        insert(leads)
        .values(
            lead_id=lead.lead_id,
            tenant=lead.tenant_id,
            source=lead.source,
            email=lead.email,
            phone=lead.phone,
            received_at=lead.received_at,
            duplicate_of=lead.duplicate_of,
            lead=lead.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
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
