"""servicekit's inbox (same table, same semantics) for a batch of input events.

``servicekit.inbox.Inbox`` handles one event per transaction; the batch consumer needs to
claim many event ids in its one transaction, and to store each one's outputs. Rows are
claimed in event-id order, so two consumers claiming overlapping batches (a rebalance)
queue on the first common row instead of deadlocking; the second sees the first's rows
once it commits and treats those events as duplicates.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence

from servicekit.events import Outgoing
from servicekit.inbox import inbox_table
from sqlalchemy import String, column, select, update, values
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession


async def claim(
    session: AsyncSession, group: str, topic: str, event_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Insert inbox rows for ``event_ids``; returns those this transaction claimed."""
    if not event_ids:
        return set()
    rows = [{"consumer_group": group, "event_id": e, "topic": topic} for e in sorted(event_ids)]
    claimed = await session.scalars(
        insert(inbox_table).values(rows).on_conflict_do_nothing().returning(inbox_table.c.event_id)
    )
    return set(claimed.all())


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
    data = [(e, [o.to_json() for o in out]) for e, out in sorted(outputs.items()) if out]
    if not data:
        return
    given = values(
        column("event_id", UUID(as_uuid=True)),
        column("outputs", JSONB),
        column("consumer_group", String),
        name="given",
    ).data([(e, out, group) for e, out in data])
    await session.execute(
        update(inbox_table)
        .where(
            inbox_table.c.consumer_group == given.c.consumer_group,
            inbox_table.c.event_id == given.c.event_id,
        )
        .values(outputs=given.c.outputs)
    )
