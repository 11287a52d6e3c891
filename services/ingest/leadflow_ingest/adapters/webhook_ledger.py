"""The webhook hot path's SQL: replay guard + rate/quota reservation, then the guard row.

Same tables and semantics as ``webhook_store`` (``find_accepted`` → ``reserve_in`` →
``claim_webhook``), on one pooled connection driven through psycopg directly: every
webhook used to cost two connection checkouts, seven round trips and SQLAlchemy's
statement compilation and session bookkeeping (a third of ingest's CPU under load).
Here it is four round trips of statements psycopg prepares after a few uses:

1. ``BEGIN`` + one statement that looks the webhook-id up and, only if it is unknown,
   reserves the minute and month counters (multi-row upsert, month row first; a row
   at its limit is not bumped) — pipelined;
2. ``COMMIT`` (reserved) or ``ROLLBACK`` (duplicate, or a window full: a partial
   increment is undone, so a refused request is never counted);
3. ``BEGIN`` + the guard-row insert — pipelined; the transaction stays open while the
   caller publishes, so a concurrent request with the same id blocks on the row;
4. ``COMMIT`` once the broker acknowledged (or ``ROLLBACK``: the id is free again).

The counters' hot rows are therefore locked only for steps 1 and 2, never across the publish.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy.ext.asyncio import AsyncEngine

from leadflow_ingest.domain.quota import Windows

_LOOKUP_AND_RESERVE = """
WITH known AS (
    SELECT lead_id FROM accepted_webhooks
    WHERE tenant = %(tenant)s AND webhook_id = %(webhook_id)s
), bumped AS (
    INSERT INTO usage_counters AS u (tenant, "window", count)
    SELECT %(tenant)s, w.name, 1
    FROM (VALUES (1, %(month)s::varchar), (2, %(minute)s::varchar)) AS w (ord, name)
    WHERE NOT EXISTS (SELECT 1 FROM known)
    ORDER BY w.ord
    ON CONFLICT (tenant, "window") DO UPDATE SET count = u.count + 1
    WHERE u.count < CASE WHEN u."window" = %(minute)s
                         THEN %(per_minute)s::bigint ELSE %(per_month)s::bigint END
    RETURNING u."window"
)
SELECT (SELECT lead_id FROM known), ARRAY(SELECT "window" FROM bumped)
"""

_CLAIM = """
INSERT INTO accepted_webhooks (tenant, webhook_id, source, lead_id, accepted_at)
VALUES (%(tenant)s, %(webhook_id)s, %(source)s, %(lead_id)s, %(now)s)
ON CONFLICT DO NOTHING
RETURNING lead_id
"""

_ORIGINAL = "SELECT lead_id FROM accepted_webhooks WHERE tenant = %s AND webhook_id = %s"

_RELEASE = """
UPDATE usage_counters SET count = count - 1
WHERE tenant = %s AND "window" IN (%s, %s) AND count > 0
"""


@dataclass(frozen=True)
class Lookup:
    """``known``: the lead_id of an already accepted webhook-id; else ``exhausted`` is
    the full window ("rate" or "quota"), or None when the request was counted."""

    known: uuid.UUID | None
    exhausted: str | None


class LedgerConnection:
    """One pooled connection in autocommit mode; transactions are explicit statements."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    async def lookup_and_reserve(
        self, tenant: str, webhook_id: str, windows: Windows, *, per_minute: int, per_month: int
    ) -> Lookup:
        """Steps 1 and 2: nothing is left reserved unless ``Lookup(None, None)`` is returned."""
        params = {
            "tenant": tenant,
            "webhook_id": webhook_id,
            "month": windows.month,
            "minute": windows.minute,
            "per_minute": per_minute,
            "per_month": per_month,
        }
        conn = self._conn
        async with conn.pipeline():
            await conn.execute("BEGIN")
            cur = await conn.execute(_LOOKUP_AND_RESERVE, params, prepare=True)
        row = await cur.fetchone()
        assert row is not None
        known, bumped = row[0], set(row[1] or ())
        exhausted = None
        if known is None:
            if per_minute <= 0 or windows.minute not in bumped:
                exhausted = "rate"
            elif per_month <= 0 or windows.month not in bumped:
                exhausted = "quota"
        await conn.execute("COMMIT" if known is None and exhausted is None else "ROLLBACK")
        return Lookup(known, exhausted)

    async def claim(
        self, *, tenant: str, webhook_id: str, source: str, lead_id: uuid.UUID, now: datetime
    ) -> uuid.UUID | None:
        """Step 3: None when this connection's open transaction now holds the guard row
        (the caller publishes, then ``commit``/``rollback``); else the original lead_id
        of an identical request that won the race (the transaction is already ended)."""
        params = {
            "tenant": tenant,
            "webhook_id": webhook_id,
            "source": source,
            "lead_id": lead_id,
            "now": now,
        }
        conn = self._conn
        async with conn.pipeline():
            await conn.execute("BEGIN")
            cur = await conn.execute(_CLAIM, params, prepare=True)
        if await cur.fetchone() is not None:
            return None
        # The statement's snapshot predates the winner's commit: look again.
        original = await (await conn.execute(_ORIGINAL, (tenant, webhook_id))).fetchone()
        await conn.execute("ROLLBACK")
        return original[0] if original is not None else lead_id

    async def commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    async def release(self, tenant: str, windows: Windows) -> None:
        """Give a committed reservation back (the request failed after step 2)."""
        await self._conn.execute(_RELEASE, (tenant, windows.minute, windows.month))


class WebhookLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[LedgerConnection]:
        """A pooled connection for one webhook. A connection the database dropped fails
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
