"""Transactional outbox for events that no input message causes (admin changes, timers).

``stage`` writes the record in the caller's transaction; after the commit ``flush``
publishes pending rows in order and marks them published. A relay (``run_relay``)
flushes periodically, so a crash between commit and publish delays an event but never
loses it. Ids are fixed when staged, so a re-publish after a crash is deduped downstream.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, MetaData, Table, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.events import Outgoing
from servicekit.kafka import EventPublisher
from servicekit.logging import get_logger

log = get_logger(__name__)
metadata = MetaData()


def _outbox_columns() -> list[Column[Any]]:
    return [
        Column("position", BigInteger, primary_key=True, autoincrement=True),
        Column("record", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    ]


outbox_table = Table("outbox", metadata, *_outbox_columns())


def create_outbox_table(op: Any) -> None:
    """For a service's Alembic revision: ``create_outbox_table(op)``."""
    op.create_table(outbox_table.name, *_outbox_columns())


async def stage(session: AsyncSession, *records: Outgoing) -> None:
    """Add records to the outbox inside the caller's transaction."""
    if records:
        await session.execute(
            outbox_table.insert(), [{"record": record.to_json()} for record in records]
        )


class Outbox:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publisher: EventPublisher
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._lock = asyncio.Lock()

    async def flush(self, limit: int = 500) -> int:
        """Publish pending records oldest first; returns how many were published."""
        async with self._lock, self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(outbox_table.c.position, outbox_table.c.record)
                    .where(outbox_table.c.published_at.is_(None))
                    .order_by(outbox_table.c.position)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await self._publisher.publish(Outgoing.from_json(row.record))
            if rows:
                await session.execute(
                    update(outbox_table)
                    .where(outbox_table.c.position.in_([r.position for r in rows]))
                    .values(published_at=func.now())
                )
            return len(rows)

    async def pending(self) -> int:
        """Records committed but not yet published (the relay's backlog)."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).where(outbox_table.c.published_at.is_(None))
            )
        return int(count or 0)

    async def run_relay(self, interval_s: float = 1.0) -> None:
        """Flush forever (until cancelled); failures are logged and retried next tick."""
        while True:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay failed; will retry", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(interval_s)
