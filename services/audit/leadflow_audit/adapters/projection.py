"""The ``lead_status`` projection in PostgreSQL: applied per batch, or rebuilt.

The merge rules live in ``domain.stages``; here they are only loaded and saved.
Callers hold the append lock (see ``store``), so read-merge-write needs no row locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from servicekit.db import uuid_array
from servicekit.tables import upsert_rows
from sqlalchemy import Row, any_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_audit.adapters.tables import lead_status_table
from leadflow_audit.domain.stages import LeadStatus, Stage, StageEvent, fold

_s = lead_status_table


def _status_values(s: LeadStatus) -> dict[str, Any]:
    return {
        "lead_id": s.lead_id,
        "tenant_id": s.tenant_id,
        "stage": s.stage.value if s.stage else None,
        "stage_at": s.stage_at,
        "stage_event_id": s.stage_event_id,
        "terminal": s.terminal,
        "last_event_type": s.last_event_type,
        "last_event_at": s.last_event_at,
        "last_event_id": s.last_event_id,
        "event_count": s.event_count,
    }


def _status(row: Row[Any]) -> LeadStatus:
    return LeadStatus(
        lead_id=row.lead_id,
        tenant_id=row.tenant_id,
        stage=Stage(row.stage) if row.stage else None,
        stage_at=row.stage_at,
        stage_event_id=row.stage_event_id,
        last_event_type=row.last_event_type,
        last_event_at=row.last_event_at,
        last_event_id=row.last_event_id,
        event_count=row.event_count,
    )


async def project(session: AsyncSession, events: Sequence[StageEvent | None]) -> None:
    """Apply newly appended events to the statuses of their leads."""
    stage_events = [e for e in events if e is not None]
    if not stage_events:
        return
    lead_ids = list({e.lead_id for e in stage_events})
    rows = await session.execute(
        select(_s).where(_s.c.lead_id == any_(uuid_array("ids", lead_ids)))
    )
    current = {row.lead_id: _status(row) for row in rows}
    updated = fold(stage_events, into=current)
    await _upsert(session, [updated[lead_id] for lead_id in lead_ids])


async def replace_all(session: AsyncSession, statuses: Iterable[LeadStatus]) -> None:
    """Replace the whole projection (a rebuild)."""
    await session.execute(delete(_s))
    await _upsert(session, statuses)


async def _upsert(session: AsyncSession, statuses: Iterable[LeadStatus]) -> None:
    await upsert_rows(session, _s, ("lead_id",), [_status_values(s) for s in statuses])
