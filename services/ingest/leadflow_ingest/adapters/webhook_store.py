"""Shared rate/quota counters and secret bookkeeping (the webhook hot path's replay guard
and reservation are in ``webhook_ledger``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_ingest.adapters.tables import usage_counters, webhook_secrets
from leadflow_ingest.domain.quota import Windows


class _Exhausted(Exception):
    def __init__(self, window: str) -> None:
        super().__init__(window)
        self.window = window


class UsageCounters:
    """Per-tenant request counters shared by every replica (one row per window).

    ``reserve`` increments the minute and the month counter in one statement only if
    both stay within their limits (a rejected request is never counted: a partial
    increment is rolled back); ``release`` gives a reservation back when the request
    fails afterwards.

    Both rows of a tenant are hot (every concurrent webhook of the tenant updates them),
    so the reservation is a single statement and its transaction is committed at once,
    never held across the broker publish. Rows are locked month first, the order in
    which ``release``'s index scan meets them, so the two cannot deadlock.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @staticmethod
    async def reserve_in(
        session: AsyncSession, tenant: str, windows: Windows, *, per_minute: int, per_month: int
    ) -> str | None:
        """Reserve in the caller's transaction; None when reserved, else the exhausted
        window ("rate" or "quota"). The caller must roll back when it is not None."""
        if per_minute <= 0:
            return "rate"
        if per_month <= 0:
            return "quota"
        stmt = insert(usage_counters).values(
            [
                {"tenant": tenant, "window": windows.month, "count": 1},
                {"tenant": tenant, "window": windows.minute, "count": 1},
            ]
        )
        limit = case((usage_counters.c.window == windows.minute, per_minute), else_=per_month)
        bumped = await session.scalars(
            stmt.on_conflict_do_update(
                index_elements=[usage_counters.c.tenant, usage_counters.c.window],
                set_={"count": usage_counters.c.count + 1},
                where=usage_counters.c.count < limit,
            ).returning(usage_counters.c.window)
        )
        done = set(bumped)
        if windows.minute not in done:
            return "rate"
        if windows.month not in done:
            return "quota"
        return None

    async def reserve(
        self, tenant: str, windows: Windows, *, per_minute: int, per_month: int
    ) -> str | None:
        """None when reserved; else the exhausted window: "rate" or "quota"."""
        try:
            async with self._sessions() as session, session.begin():
                exhausted = await self.reserve_in(
                    session, tenant, windows, per_minute=per_minute, per_month=per_month
                )
                if exhausted is not None:
                    raise _Exhausted(exhausted)  # rolls a partial increment back
        except _Exhausted as exc:
            return exc.window
        return None

    async def release(self, tenant: str, windows: Windows) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(usage_counters)
                .where(
                    usage_counters.c.tenant == tenant,
                    usage_counters.c.window.in_([windows.minute, windows.month]),
                    usage_counters.c.count > 0,
                )
                .values(count=usage_counters.c.count - 1)
            )

    async def prune(self, older_than: str) -> None:
        """Drop minute windows before ``older_than`` (e.g. "m2025-06-03T08:00")."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(usage_counters).where(
                    usage_counters.c.window.like("m%"), usage_counters.c.window < older_than
                )
            )


class SecretUse:
    """Records a signing secret's use, at most once a minute per secret and process.

    The UPDATE itself is also guarded (at most once a minute across replicas); the local
    memo spares the hot path a pooled connection and three round trips per webhook.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._touched: dict[uuid.UUID, datetime] = {}

    async def touch(self, secret_id: uuid.UUID, now: datetime) -> None:
        last = self._touched.get(secret_id)
        if last is not None and now - timedelta(minutes=1) < last <= now:
            return
        if len(self._touched) > 10_000:
            self._touched.clear()
        await touch_secret(self._sessions, secret_id, now)
        self._touched[secret_id] = now


async def touch_secret(
    sessions: async_sessionmaker[AsyncSession], secret_id: uuid.UUID, now: datetime
) -> None:
    """Record ``last_used_at`` at most once a minute per secret (avoids a hot row)."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(webhook_secrets)
            .where(
                webhook_secrets.c.secret_id == secret_id,
                or_(
                    webhook_secrets.c.last_used_at.is_(None),
                    and_(webhook_secrets.c.last_used_at < now - timedelta(minutes=1)),
                ),
            )
            .values(last_used_at=now)
        )
