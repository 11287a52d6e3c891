"""Transactional outbox for events that no input message causes (admin changes, timers).

``stage`` writes the record in the caller's transaction; after the commit ``flush``
publishes pending rows in order and marks them published. A relay (``run_relay``)
flushes periodically, so a crash between commit and publish delays an event but never
loses it. Ids are fixed when staged, so a re-publish after a crash is deduped downstream.

Published rows are kept for ``outbox_retention_days`` (then pruned by the relay): with
the consumers' stored outputs (``servicekit.inbox``) they are what ``servicekit.redrive``
re-publishes when the broker lost its data — PostgreSQL is the source of truth, the
broker a transport. A row that cannot be published for its own reason (it cannot be
serialized, the broker refuses it) is *parked* with its error instead of blocking every
later row of every tenant; an unreachable broker only pauses the relay.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.schema import Column, Index, MetaData, Table
from sqlalchemy.sql import delete, func, select, update
from sqlalchemy.types import BigInteger, DateTime, String, Text

from servicekit.events import Outgoing
from servicekit.faults import describe, is_infrastructure_fault
from servicekit.kafka import EventPublisher
from servicekit.logging import error_text, get_logger
from servicekit.metrics import ServiceMetrics

log = get_logger(__name__)
metadata = MetaData()


def _outbox_columns() -> list[Column[Any]]:
    return [
        Column("position", BigInteger, primary_key=True, autoincrement=True),
        Column("record", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        Column("parked_at", DateTime(timezone=True), nullable=True),
        Column("error", Text, nullable=True),
    ]


outbox_table = Table(
    "outbox",
    metadata,
    *_outbox_columns(),
    Index("ix_outbox_created_at", "created_at"),
)


def create_outbox_table(op: Any) -> None:
    """For a service's first Alembic revision: ``create_outbox_table(op)`` (the columns of
    that first revision; ``add_retention`` adds what came later)."""
    op.create_table(outbox_table.name, *_outbox_columns()[:4])


def add_retention(op: Any) -> None:
    """For a service's Alembic revision: parking columns, the index redrive and pruning
    read by, and the table of broker incarnations (``servicekit.redrive``)."""
    op.add_column("outbox", Column("parked_at", DateTime(timezone=True), nullable=True))
    op.add_column("outbox", Column("error", Text, nullable=True))
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])
    op.create_table(
        "broker_epochs",
        Column("cluster_id", String(200), nullable=False),
        Column("first_seen_at", DateTime(timezone=True), primary_key=True),
    )


def drop_retention(op: Any) -> None:
    op.drop_table("broker_epochs")
    op.drop_index("ix_inbox_processed_at", "inbox")
    op.drop_index("ix_outbox_created_at", "outbox")
    op.drop_column("outbox", "error")
    op.drop_column("outbox", "parked_at")


async def stage(session: AsyncSession, *records: Outgoing) -> None:
    """Add records to the outbox inside the caller's transaction."""
    if records:
        await session.execute(
            outbox_table.insert(), [{"record": record.to_json()} for record in records]
        )


_pending = outbox_table.c.published_at.is_(None) & outbox_table.c.parked_at.is_(None)


class Outbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        metrics: ServiceMetrics | None = None,
        retention_days: float = 7.0,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._metrics = metrics
        self._retention = timedelta(days=retention_days)
        self._lock = asyncio.Lock()

    async def flush(self, limit: int = 500) -> int:
        """Publish pending records oldest first; returns how many were published.

        A record that fails for its own reason is parked (``parked_at``, ``error``) and the
        flush goes on; an infrastructure fault (broker unreachable) ends the flush with
        what was published so far marked, and the relay tries again.
        """
        published: list[int] = []
        parked: list[tuple[int, str]] = []
        async with self._lock, self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(outbox_table.c.position, outbox_table.c.record)
                    .where(_pending)
                    .order_by(outbox_table.c.position)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            try:
                for row in rows:
                    try:
                        await self._publisher.publish(Outgoing.from_json(row.record))
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        if is_infrastructure_fault(exc):
                            raise
                        parked.append((row.position, error_text(exc, 1000)))
                        continue
                    published.append(row.position)
            finally:
                await self._mark(session, published, parked)
        return len(published)

    async def _mark(
        self, session: AsyncSession, published: list[int], parked: list[tuple[int, str]]
    ) -> None:
        if published:
            await session.execute(
                update(outbox_table)
                .where(outbox_table.c.position.in_(published))
                .values(published_at=func.now())
            )
        for position, error in parked:
            await session.execute(
                update(outbox_table)
                .where(outbox_table.c.position == position)
                .values(parked_at=func.now(), error=error)
            )
            log.error(
                "outbox record parked: it cannot be published",
                position=position,
                error=error.split(":", 1)[0],
            )
            if self._metrics is not None:
                self._metrics.outbox_parked.labels(self._metrics.service).inc()

    async def pending(self) -> int:
        """Records committed but neither published nor parked (the relay's backlog)."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(outbox_table).where(_pending)
            )
        return int(count or 0)

    async def prune(self) -> int:
        """Delete published records older than the retention window."""
        cutoff = datetime.now(UTC) - self._retention
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(outbox_table).where(
                    outbox_table.c.published_at.is_not(None), outbox_table.c.created_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def run_relay(self, interval_s: float = 1.0, prune_every_s: float = 3600.0) -> None:
        """Flush forever (until cancelled); failures are logged and retried next tick."""
        loop = asyncio.get_running_loop()
        pruned_at = loop.time()
        while True:
            try:
                await self.flush()
                if loop.time() - pruned_at >= prune_every_s:
                    pruned_at = loop.time()
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "outbox relay failed; will retry",
                    reason=describe(exc),
                    error=type(exc).__name__,
                )
            await asyncio.sleep(interval_s)
