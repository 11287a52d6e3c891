"""The idempotent-consumer table (inbox) with the outputs each input must (re-)emit.

A consumer's batch function claims its inputs' ``event_id`` rows (``claim_batch``) in the
transaction of its state change, together with the records the change produced
(``store_outputs``). The engine publishes the records only after the commit. If the
process dies between commit and publish, the input is redelivered (its offset was never
committed), the inbox row is found, and the stored records are published again —
byte-identical, with the same deterministic event ids, so downstream consumers dedupe
them. A state change therefore happens exactly once and
its events are never lost.

Concurrent consumers of the same event (a rebalance) serialize on the inbox row: the
second ``INSERT … ON CONFLICT DO NOTHING`` waits for the first transaction and then
sees the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadflow_contracts import Envelope
from sqlalchemy import Column, DateTime, Index, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func, select

from servicekit.events import Outgoing
from servicekit.tables import insert_rows, update_rows

metadata = MetaData()


def _inbox_columns() -> list[Column[Any]]:
    return [
        Column("consumer_group", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("topic", String(249), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("outputs", JSONB, nullable=False, server_default="[]"),
    ]


#: ``processed_at`` is indexed for ``servicekit.redrive`` (outputs emitted since a time).
inbox_table = Table(
    "inbox", metadata, *_inbox_columns(), Index("ix_inbox_processed_at", "processed_at")
)


async def claim(
    session: AsyncSession, group: str, topic: str, event_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Insert inbox rows for ``event_ids`` in the caller's transaction; returns the ids this
    transaction claimed (the others were handled before). Rows are claimed in event-id
    order, so two consumers claiming overlapping batches (a rebalance) queue on the first
    common row instead of deadlocking; the second sees the first's rows once it commits."""
    if not event_ids:
        return set()
    rows = [{"consumer_group": group, "event_id": e, "topic": topic} for e in sorted(event_ids)]
    claimed = await insert_rows(session, inbox_table, rows, returning=True)
    return {row["event_id"] for row in claimed}


@dataclass(frozen=True)
class ClaimedBatch:
    #: The envelopes seen for the first time, in batch order: handle them.
    fresh: list[Envelope[Any]]
    #: The outputs stored for the event ids handled before: re-publish them.
    seen: dict[uuid.UUID, list[Outgoing]]

    @property
    def fresh_ids(self) -> set[uuid.UUID]:
        return {e.event_id for e in self.fresh}


async def claim_batch(
    session: AsyncSession, group: str, topic: str, envelopes: Sequence[Envelope[Any]]
) -> ClaimedBatch:
    """A batch handler's first step: claim every envelope's event id (distinct ids) and
    load the stored outputs of those handled before."""
    ids = [e.event_id for e in envelopes]
    claimed = await claim(session, group, topic, ids)
    seen = await stored_outputs(session, group, set(ids) - claimed)
    return ClaimedBatch([e for e in envelopes if e.event_id in claimed], seen)


async def stored_outputs(
    session: AsyncSession, group: str, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Outgoing]]:
    """The outputs recorded when these (already handled) events were first handled."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(inbox_table.c.event_id, inbox_table.c.outputs).where(
            inbox_table.c.consumer_group == group,
            inbox_table.c.event_id.in_(sorted(event_ids)),
        )
    )
    return {e: [Outgoing.from_json(o) for o in outputs or []] for e, outputs in rows.all()}


async def store_outputs(
    session: AsyncSession, group: str, outputs: Mapping[uuid.UUID, Sequence[Outgoing]]
) -> None:
    """Record each claimed event's outputs (rows default to none) in one statement."""
    rows = [
        {"consumer_group": group, "event_id": e, "outputs": [o.to_json() for o in out]}
        for e, out in outputs.items()
        if out
    ]
    await update_rows(session, inbox_table, ("consumer_group", "event_id"), rows)


def create_inbox_table(op: Any) -> None:
    """For a service's first Alembic revision: ``create_inbox_table(op)``."""
    op.create_table(inbox_table.name, *_inbox_columns())
