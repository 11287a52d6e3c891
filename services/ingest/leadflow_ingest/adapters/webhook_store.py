"""Shared rate/quota counters and secret bookkeeping (the webhook hot path's replay guard
and reservation are in ``webhook_ledger``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_ingest.adapters.tables import usage_counters, webhook_secrets
from leadflow_ingest.domain.quota import Windows


class UsageCounters:
    """Per-tenant request counters shared by every replica (one row per window).

    Requests are counted by ``ingest_reserve`` on the webhook hot path
    (``webhook_ledger``); ``release`` gives a count back when the request fails
    afterwards, ``prune`` drops minute windows nobody reads again.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

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
