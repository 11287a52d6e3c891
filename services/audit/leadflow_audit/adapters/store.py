"""The event store: serialized, hash-chained, idempotent appends and the chain walk.

Why an advisory lock: the chain needs each row's predecessor *as committed*. Two
concurrent appenders (a rebalance, a second replica) that each read "the last hash"
and insert would fork the chain, and with a plain ``bigserial`` a row could even get a
smaller position than a row committed before it. ``pg_advisory_xact_lock`` taken first
in the appending transaction makes appends strictly one after another: positions are
drawn, hashes computed and rows inserted while holding it, and it is released only at
commit, so position order equals commit order equals chain order. It costs one lock
round trip per *batch*, which is why appends are batched. (SERIALIZABLE would detect
the conflict only to retry it; a ``SELECT … FOR UPDATE`` on a head row would need an
UPDATE path, which this table must not have.)

Why no ``ON CONFLICT DO NOTHING``: under the lock nobody else inserts, so the event ids
already stored are known before anything is written; only the new events get positions
and hashes, in the order ``new_in_order`` gives them (positions are drawn ascending in
that order, and each hash links to the one before). A silently skipped row would leave
a hole in the chain, so an unexpected conflict fails the transaction instead (and the
batch is retried).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from servicekit.db import uuid_array
from sqlalchemy import Row, any_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_audit.adapters.projection import project, replace_all
from leadflow_audit.adapters.tables import events_table
from leadflow_audit.domain.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    ChainRow,
    ChainVerifier,
    StoredRow,
    Verdict,
    chain,
)
from leadflow_audit.domain.records import IncomingEvent, new_in_order, stage_event
from leadflow_audit.domain.stages import LeadStatus, apply

APPEND_LOCK_ID = 7_242_031_006
PAGE = 1_000
_e = events_table


@dataclass(frozen=True)
class AppendResult:
    appended: int
    duplicates: int
    #: The ids that were stored before this append (redeliveries).
    known: frozenset[uuid.UUID] = frozenset()


def _chain_row(row: Row[Any]) -> ChainRow:
    return ChainRow(**{name: getattr(row, name) for name in HASHED_FIELDS})


_COLUMNS = (
    "position",
    "event_id",
    "event_type",
    "tenant_id",
    "lead_id",
    "correlation_id",
    "trace_id",
    "occurred_at",
    "recorded_at",
    "envelope",
    "prev_hash",
    "row_hash",
)
_COPY = f"COPY events ({', '.join(_COLUMNS)}) FROM STDIN"


def _json_text(document: Any) -> str:
    try:
        return orjson.dumps(document).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return json.dumps(document, ensure_ascii=False)


async def _copy_rows(session: AsyncSession, linked: Sequence[StoredRow]) -> None:
    """One COPY for the batch's rows, on the session's connection (same transaction)."""
    connection = await (await session.connection()).get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = connection.driver_connection  # type: ignore[assignment]
    async with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
        for s in linked:
            r = s.row
            await copy.write_row(
                (
                    r.position,
                    r.event_id,
                    r.event_type,
                    r.tenant_id,
                    r.lead_id,
                    r.correlation_id,
                    r.trace_id,
                    r.occurred_at,
                    r.recorded_at,
                    _json_text(r.envelope),
                    s.prev_hash,
                    s.row_hash,
                )
            )


class EventStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def append(self, events: Sequence[IncomingEvent]) -> AppendResult:
        """Append the events not stored yet, in order, and project them (one transaction)."""
        if not events:
            return AppendResult(0, 0)
        async with self._sessions() as session, session.begin():
            await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": APPEND_LOCK_ID})
            ids = list({e.event_id for e in events})
            known = set(
                await session.scalars(
                    select(_e.c.event_id).where(_e.c.event_id == any_(uuid_array("ids", ids)))
                )
            )
            fresh = new_in_order(list(events), known)
            if fresh:
                await self._insert(session, fresh)
                await project(session, [stage_event(e) for e in fresh])
        return AppendResult(len(fresh), len(events) - len(fresh), frozenset(known))

    async def _insert(self, session: AsyncSession, fresh: list[IncomingEvent]) -> None:
        head = await session.scalar(select(_e.c.row_hash).order_by(_e.c.position.desc()).limit(1))
        positions = list(
            await session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('events', 'position')) AS p "
                    "FROM generate_series(1, :n) ORDER BY p"
                ),
                {"n": len(fresh)},
            )
        )
        recorded_at = datetime.now(UTC)
        linked = chain(
            head or GENESIS_HASH,
            [e.at(p, recorded_at) for e, p in zip(fresh, positions, strict=True)],
        )
        await _copy_rows(session, linked)

    async def stored_rows(self, session: AsyncSession) -> AsyncIterator[tuple[StoredRow, Row[Any]]]:
        """Every row in position order, page by page (keyset on position), up to the head
        as it is now: rows appended meanwhile (always at higher positions, see the module
        docstring) are left for the next walk."""
        head = await session.scalar(select(func.max(_e.c.position)))
        after = 0
        while head is not None:
            page = (
                await session.execute(
                    select(_e)
                    .where(_e.c.position > after, _e.c.position <= head)
                    .order_by(_e.c.position)
                    .limit(PAGE)
                )
            ).all()
            for row in page:
                yield StoredRow(_chain_row(row), row.prev_hash, row.row_hash), row
            if len(page) < PAGE:
                return
            after = page[-1].position

    async def verify(self, tenants: tuple[str, ...] | None = None) -> tuple[Verdict, int]:
        """Walk the whole chain; returns the verdict and how many of the rows checked
        belong to ``tenants`` (all rows when None)."""
        verifier = ChainVerifier()
        visible = 0
        async with self._sessions() as session:
            async for stored, row in self.stored_rows(session):
                if not verifier.feed([stored]):
                    break
                if tenants is None or row.tenant_id in tenants:
                    visible += 1
        return verifier.verdict(), visible

    async def rebuild_projection(self) -> int:
        """Recompute ``lead_status`` from ``events`` alone; returns the number of leads.

        Holds the append lock, so no append interleaves with the rebuild."""
        async with self._sessions() as session, session.begin():
            await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": APPEND_LOCK_ID})
            statuses: dict[uuid.UUID, LeadStatus] = {}
            async for stored, _ in self.stored_rows(session):
                if (event := stage_event(stored.row)) is not None:
                    apply(statuses, event)
            await replace_all(session, statuses.values())
        return len(statuses)
