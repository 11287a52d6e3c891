"""The webhook hot path's SQL, for a group of concurrent webhooks at a time: replay guard
+ rate/quota reservation, the guard rows, then the outcome.

Two round trips per group on one pooled connection, driven through psycopg directly
(fixed statement texts with one array per column or one JSON document of rows, so
psycopg prepares them whatever the group's size; no ORM):

1. one pipeline: ``BEGIN`` + ``ingest_reserve(...)`` for every webhook of the group in
   order (migration 0003: looks the webhook-id up and, only if it is unknown, counts the
   request in the minute and the month window, or counts nothing when either is full) +
   ``COMMIT``, then ``BEGIN`` + the guard rows (``ON CONFLICT DO NOTHING``: a known id
   inserts nothing). The transaction of the guard rows stays open while the caller
   publishes, so a concurrent request with the same id blocks on its row;
2. ``finish``: the guard rows of webhooks that are not accepted after all (a full window,
   a refused publish) are deleted, the ``lead.received`` records of the accepted ones
   are retained in the outbox (what a redrive re-publishes after the broker lost data),
   and ``COMMIT`` — or ``ROLLBACK`` when nothing is accepted (every id is free again).

The counters' hot rows are locked only inside the reservation's own short transaction,
never across the publish. Webhooks are handled in (tenant, webhook-id) order, so two
groups take their row locks in the same order and cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg import pq
from sqlalchemy.ext.asyncio import AsyncEngine

from leadflow_ingest.domain.quota import Windows

_RESERVE = """
SELECT r.known, r.exhausted
FROM unnest(
    %(tenant)s::varchar[], %(webhook_id)s::varchar[], %(month)s::varchar[],
    %(minute)s::varchar[], %(per_minute)s::bigint[], %(per_month)s::bigint[]
) WITH ORDINALITY AS i(tenant, webhook_id, month, minute, per_minute, per_month, n)
CROSS JOIN LATERAL ingest_reserve(
    i.tenant, i.webhook_id, i.month, i.minute, i.per_minute, i.per_month
) AS r
ORDER BY i.n
"""

_CLAIM = """
INSERT INTO accepted_webhooks (tenant, webhook_id, source, lead_id, accepted_at)
SELECT * FROM unnest(
    %(tenant)s::varchar[], %(webhook_id)s::varchar[], %(source)s::varchar[],
    %(lead_id)s::uuid[], %(now)s::timestamptz[]
)
ON CONFLICT DO NOTHING
RETURNING tenant, webhook_id
"""

_ORIGINAL = "SELECT lead_id FROM accepted_webhooks WHERE tenant = %s AND webhook_id = %s"

_DROP = """
DELETE FROM accepted_webhooks
WHERE (tenant, webhook_id) IN (SELECT * FROM unnest(%s::varchar[], %s::varchar[]))
"""

#: The lead.received records, retained like every event the service emits
#: (``servicekit.outbox``): already on the topic, so staged as published.
_RETAIN = """
INSERT INTO outbox (record, published_at) SELECT r.record, r.published_at
FROM json_to_recordset(%s::json) AS r(record jsonb, published_at timestamptz)
"""

_RELEASE = """
UPDATE usage_counters SET count = count - 1
WHERE tenant = %s AND "window" IN (%s, %s) AND count > 0
"""


@dataclass(frozen=True)
class ClaimRequest:
    """One webhook of a group, as the ledger needs it."""

    tenant: str
    webhook_id: str
    source: str
    lead_id: uuid.UUID
    now: datetime
    windows: Windows
    per_minute: int
    per_month: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.tenant, self.webhook_id)


@dataclass(frozen=True)
class Claim:
    """``known``: the lead_id of an already accepted webhook-id (also when an identical
    concurrent request won the race); else ``exhausted`` is the full window ("rate" or
    "quota"); both None: the request was counted and this connection's open transaction
    holds its guard row (the caller publishes, then ``finish``es the group).
    ``uncount``: the request was counted although it is not accepted (it lost a race to
    an identical one): the caller gives the count back once the group is finished."""

    known: uuid.UUID | None
    exhausted: str | None
    uncount: bool = field(default=False, compare=False)

    @property
    def holds(self) -> bool:
        return self.known is None and self.exhausted is None


class ReservationUncertain(Exception):
    """The database failed after the reservations were committed: ``counted`` are the
    requests the caller should give back (``UsageCounters.release``) on a fresh
    connection."""

    def __init__(self, counted: Sequence[ClaimRequest]) -> None:
        super().__init__(f"{len(counted)} reservations to give back")
        self.counted = list(counted)


def _columns(requests: Sequence[ClaimRequest]) -> dict[str, list[Any]]:
    return {
        "tenant": [r.tenant for r in requests],
        "webhook_id": [r.webhook_id for r in requests],
        "source": [r.source for r in requests],
        "lead_id": [r.lead_id for r in requests],
        "now": [r.now for r in requests],
        "month": [r.windows.month for r in requests],
        "minute": [r.windows.minute for r in requests],
        "per_minute": [r.per_minute for r in requests],
        "per_month": [r.per_month for r in requests],
    }


class LedgerConnection:
    """One pooled connection in autocommit mode; transactions are explicit statements."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    async def claim(self, requests: Sequence[ClaimRequest]) -> list[Claim]:
        """Step 1 for ``requests`` (distinct keys, in ``key`` order), one claim each.
        Nothing stays counted of a request whose claim does not hold, unless the claim
        says ``uncount``; the guard rows stay uncommitted until ``finish``."""
        conn = self._conn
        params = _columns(requests)
        reserve = committed = None
        try:
            async with conn.pipeline():
                await conn.execute("BEGIN")
                reserve = await conn.execute(_RESERVE, params, prepare=True)
                committed = await conn.execute("COMMIT")
                await conn.execute("BEGIN")
                claimed = await conn.execute(_CLAIM, params, prepare=True)
        except psycopg.Error as exc:
            counted = _counted(requests, reserve, committed)
            if counted:  # the guard rows failed, not the reservations
                raise ReservationUncertain(counted) from exc
            raise
        reserved = await reserve.fetchall()
        inserted = {(t, w) for t, w in await claimed.fetchall()}
        claims: list[Claim] = []
        for request, (known, exhausted) in zip(requests, reserved, strict=True):
            if known is not None or exhausted is not None or request.key in inserted:
                claims.append(Claim(known, exhausted))
                continue
            # Counted, but an identical concurrent request committed the guard row first;
            # the statement's snapshot predates that commit: look again.
            row = await (await conn.execute(_ORIGINAL, request.key)).fetchone()
            claims.append(Claim(row[0] if row is not None else request.lead_id, None, True))
        return claims

    async def finish(
        self, drop: Sequence[ClaimRequest], retain: Sequence[tuple[dict[str, Any], datetime]]
    ) -> None:
        """Step 2: drop the guard rows of ``drop`` (not accepted after all), retain the
        records of the accepted webhooks, commit; with nothing to retain, roll back."""
        conn = self._conn
        if not retain:
            await conn.execute("ROLLBACK")
            return
        async with conn.pipeline():
            if drop:
                tenants, ids = [r.tenant for r in drop], [r.webhook_id for r in drop]
                await conn.execute(_DROP, (tenants, ids), prepare=True)
            rows = [{"record": r, "published_at": t} for r, t in retain]
            await conn.execute(_RETAIN, (orjson.dumps(rows).decode(),), prepare=True)
            await conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    async def release(self, tenant: str, windows: Windows) -> None:
        """Give a committed reservation back (the request failed after step 1)."""
        await self._conn.execute(_RELEASE, (tenant, windows.minute, windows.month))


def _counted(
    requests: Sequence[ClaimRequest],
    reserve: psycopg.AsyncCursor[Any] | None,
    committed: psycopg.AsyncCursor[Any] | None,
) -> list[ClaimRequest]:
    """The requests a failed pipeline had already counted and committed."""
    result = reserve.pgresult if reserve is not None else None
    if result is None or result.status != pq.ExecStatus.TUPLES_OK:
        return []
    commit = committed.pgresult if committed is not None else None
    if commit is None or commit.status != pq.ExecStatus.COMMAND_OK:
        return []
    return [
        request
        for n, request in enumerate(requests[: result.ntuples])
        if result.get_value(n, 0) is None and result.get_value(n, 1) is None
    ]


class WebhookLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[LedgerConnection]:
        """A pooled connection for one group. A connection the database dropped fails
        its first use; then the whole pool is renewed (the others are dead too), as
        SQLAlchemy does when it meets a disconnect itself."""
        async with self._engine.connect() as sa_conn:
            raw = (await sa_conn.get_raw_connection()).driver_connection
            assert isinstance(raw, psycopg.AsyncConnection)
            try:
                await raw.set_autocommit(True)
                yield LedgerConnection(raw)
            except BaseException:
                if raw.broken or raw.closed:
                    await sa_conn.invalidate()
                    await self._engine.dispose()
                raise
            finally:
                if not (raw.broken or raw.closed):
                    if raw.info.transaction_status != pq.TransactionStatus.IDLE:
                        await raw.execute("ROLLBACK")
                    await raw.set_autocommit(False)
