"""Read side of the event store, always scoped to a set of tenants (None = every tenant)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts.topics import REGISTRY
from sqlalchemy import Select, case, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_audit.adapters.tables import events_table, lead_status_table

Tenants = tuple[str, ...] | None
_e = events_table
_s = lead_status_table
#: Events stamped at the same instant (``lead.scored`` and ``lead.qualified`` come from one
#: decision) are shown in pipeline order, the registry's.
_pipeline_rank = case(
    {spec.event_type: rank for rank, spec in enumerate(REGISTRY)},
    value=_e.c.event_type,
    else_=len(REGISTRY),
)


@dataclass(frozen=True)
class EventFilter:
    correlation_id: str | None = None
    trace_id: str | None = None
    tenant: str | None = None
    lead_id: uuid.UUID | None = None
    event_type: str | None = None


def _scoped(stmt: Select[Any], column: Any, tenants: Tenants) -> Select[Any]:
    return stmt if tenants is None else stmt.where(column.in_(tenants))


class AuditQueries:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def timeline(self, lead_id: uuid.UUID, tenants: Tenants) -> list[Any]:
        """The lead's events in the order they happened (topics are consumed
        independently, so arrival order, i.e. position, can differ); ties in
        ``occurred_at`` in pipeline order, then by position."""
        stmt = _scoped(
            select(_e)
            .where(_e.c.lead_id == lead_id)
            .order_by(_e.c.occurred_at, _pipeline_rank, _e.c.position),
            _e.c.tenant_id,
            tenants,
        )
        async with self._sessions() as session:
            return list((await session.execute(stmt)).all())

    async def lead_status(self, lead_id: uuid.UUID, tenants: Tenants) -> Any | None:
        stmt = _scoped(select(_s).where(_s.c.lead_id == lead_id), _s.c.tenant_id, tenants)
        async with self._sessions() as session:
            return (await session.execute(stmt)).first()

    async def events(
        self,
        where: EventFilter,
        tenants: Tenants,
        *,
        after: int,
        limit: int,
        newest: bool = False,
    ) -> list[Any]:
        stmt = select(_e).where(_e.c.position > after)
        for column, value in (
            (_e.c.correlation_id, where.correlation_id),
            (_e.c.trace_id, where.trace_id),
            (_e.c.tenant_id, where.tenant),
            (_e.c.lead_id, where.lead_id),
            (_e.c.event_type, where.event_type),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        order = _e.c.position.desc() if newest else _e.c.position
        stmt = _scoped(stmt, _e.c.tenant_id, tenants).order_by(order).limit(limit)
        async with self._sessions() as session:
            return list((await session.execute(stmt)).all())

    async def stuck(
        self, older_than: datetime, tenants: Tenants, *, tenant: str | None, limit: int
    ) -> list[Any]:
        """Leads not in a terminal stage whose last event is older than ``older_than``,
        oldest first."""
        stmt = select(_s).where(_s.c.terminal.is_(False), _s.c.last_event_at < older_than)
        if tenant is not None:
            stmt = stmt.where(_s.c.tenant_id == tenant)
        stmt = _scoped(stmt, _s.c.tenant_id, tenants).order_by(_s.c.last_event_at).limit(limit)
        async with self._sessions() as session:
            return list((await session.execute(stmt)).all())
