"""A short-lived cache of tenant configuration (tier, region, decrypted signing keys).

Admin changes made through this replica invalidate the entry at once; changes made
through another replica apply within ``ttl_s``.

Whether a slug exists is answered from the set of every tenant slug (one query for all
of them per ``ttl_s``), never by a query for that slug: a made-up slug costs what a known,
cached one costs, so neither a flood of made-up slugs reaches the database nor does the
answer time tell which slugs exist.

Concurrent requests that find an entry expired share one refresh (one query for the slug
set, one load per slug) instead of each running its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tables import sources as sources_table
from leadflow_ingest.adapters.tables import tenants, tiers, webhook_secrets
from leadflow_ingest.domain.signatures import SigningKey
from leadflow_ingest.domain.tenancy import TenantConfig, TierLimits

T = TypeVar("T")


class TenantConfigCache:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        ttl_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._ttl = ttl_s
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, TenantConfig | None]] = {}
        self._slugs: tuple[float, frozenset[str]] = (float("-inf"), frozenset())
        #: Refreshes in flight, by key ("" for the slug set), each awaited by every
        #: request that needs it; ``_generation`` moves on every invalidation, so a
        #: refresh that started before one is neither shared nor stored after it.
        self._pending: dict[str, tuple[int, asyncio.Future[Any]]] = {}
        self._generation = 0

    def invalidate(self, slug: str | None = None) -> None:
        self._generation += 1
        self._slugs = (float("-inf"), frozenset())
        if slug is None:
            self._entries.clear()
        else:
            self._entries.pop(slug, None)

    async def get(self, slug: str) -> TenantConfig | None:
        now = self._monotonic()
        if self._slugs[0] <= now:
            generation = self._generation
            slugs = await self._shared("", self._load_slugs)
            if generation == self._generation:
                self._slugs = (now + self._ttl, slugs)
        else:
            slugs = self._slugs[1]
        if slug not in slugs:
            return None
        hit = self._entries.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        config = await self._shared(slug, lambda: self._load(slug))
        if generation == self._generation:
            self._entries[slug] = (now + self._ttl, config)
        return config

    async def _shared(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``'s result, run once for all callers waiting on ``key`` at the same
        generation; a caller that is cancelled does not cancel it for the others."""
        pending = self._pending.get(key)
        if pending is None or pending[0] != self._generation:
            task: asyncio.Future[Any] = asyncio.ensure_future(load())
            entry = (self._generation, task)
            self._pending[key] = entry

            def forget(done: asyncio.Future[Any]) -> None:
                if self._pending.get(key) is entry:
                    del self._pending[key]
                if not done.cancelled():
                    done.exception()  # retrieved, also when every waiter was cancelled

            task.add_done_callback(forget)
            pending = entry
        return cast(T, await asyncio.shield(pending[1]))

    async def _load_slugs(self) -> frozenset[str]:
        async with self._sessions() as session:
            return frozenset(await session.scalars(select(tenants.c.slug)))

    async def _load(self, slug: str) -> TenantConfig | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(tenants.c.slug, tenants.c.default_region, tiers)
                    .join(tiers, tiers.c.name == tenants.c.tier)
                    .where(tenants.c.slug == slug)
                )
            ).first()
            if row is None:
                return None
            source_rows = await session.execute(
                select(sources_table.c.source).where(sources_table.c.tenant == slug)
            )
            keys: dict[str, list[SigningKey]] = {r.source: [] for r in source_rows}
            secret_rows = await session.execute(
                select(
                    webhook_secrets.c.source,
                    webhook_secrets.c.secret_id,
                    webhook_secrets.c.ciphertext,
                    webhook_secrets.c.expires_at,
                ).where(webhook_secrets.c.tenant == slug, webhook_secrets.c.revoked_at.is_(None))
            )
            for r in secret_rows:
                keys.setdefault(r.source, []).append(
                    SigningKey(r.secret_id, self._box.open(r.ciphertext), r.expires_at)
                )
        return TenantConfig(
            slug=row.slug,
            default_region=row.default_region,
            tier=TierLimits(row.name, row.rate_per_minute, row.monthly_quota, row.sla_minutes),
            keys={source: tuple(k) for source, k in keys.items()},
        )
