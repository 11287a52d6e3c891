"""The idempotent-consumer helper (inbox) with the outputs it must (re-)emit.

``Inbox.handle`` runs a state change and records the input's ``event_id`` in the same
transaction, together with the records the change produced. The records are published
only after the commit. If the process dies between commit and publish, the input is
redelivered (its offset was never committed), the inbox row is found, and the stored
records are published again — byte-identical, with the same deterministic event ids,
so downstream consumers dedupe them. A state change therefore happens exactly once and
its events are never lost.

Concurrent consumers of the same event (a rebalance) serialize on the inbox row: the
second ``INSERT … ON CONFLICT DO NOTHING`` waits for the first transaction and then
sees the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.events import Outgoing
from servicekit.kafka import EventPublisher

metadata = MetaData()


def _inbox_columns() -> list[Column[Any]]:
    return [
        Column("consumer_group", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("topic", String(249), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("outputs", JSONB, nullable=False, server_default="[]"),
    ]


inbox_table = Table("inbox", metadata, *_inbox_columns())

Apply = Callable[[AsyncSession], Awaitable[Sequence[Outgoing]]]


@dataclass(frozen=True)
class HandleResult:
    outputs: list[Outgoing]
    duplicate: bool


class Inbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        consumer_group: str,
        publisher: EventPublisher,
    ) -> None:
        self._sessions = sessions
        self._group = consumer_group
        self._publisher = publisher

    async def record(self, event_id: uuid.UUID, topic: str, apply: Apply) -> HandleResult:
        """Apply once and store the outputs, without publishing them."""
        async with self._sessions() as session, session.begin():
            claimed = await session.execute(
                insert(inbox_table)
                .values(consumer_group=self._group, event_id=event_id, topic=topic)
                .on_conflict_do_nothing()
                .returning(inbox_table.c.event_id)
            )
            if claimed.first() is None:
                stored = await session.scalar(
                    select(inbox_table.c.outputs).where(
                        inbox_table.c.consumer_group == self._group,
                        inbox_table.c.event_id == event_id,
                    )
                )
                return HandleResult([Outgoing.from_json(o) for o in stored or []], True)
            outputs = list(await apply(session))
            await session.execute(
                update(inbox_table)
                .where(
                    inbox_table.c.consumer_group == self._group,
                    inbox_table.c.event_id == event_id,
                )
                .values(outputs=[o.to_json() for o in outputs])
            )
        return HandleResult(outputs, False)

    async def handle(self, event_id: uuid.UUID, topic: str, apply: Apply) -> HandleResult:
        """Apply once, then publish the outputs (again, if this input was seen before)."""
        result = await self.record(event_id, topic, apply)
        await self._publisher.publish_all(result.outputs)
        return result


def create_inbox_table(op: Any) -> None:
    """For a service's first Alembic revision: ``create_inbox_table(op)``."""
    op.create_table(inbox_table.name, *_inbox_columns())
