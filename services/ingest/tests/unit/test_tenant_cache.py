"""The tenant cache: concurrent misses share one refresh; an invalidation is not undone
by a refresh that started before it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cryptography.fernet import Fernet
from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tenant_cache import TenantConfigCache
from leadflow_ingest.domain.tenancy import TenantConfig, TierLimits


class Database:
    """Stands in for the sessions: counts queries, each held until ``release``."""

    def __init__(self, slugs: set[str]) -> None:
        self.slugs = slugs
        self.slug_queries = 0
        self.loads: list[str] = []
        self.gate = asyncio.Event()  # holds every query
        self.load_gate = asyncio.Event()  # holds the loads of a tenant's config too
        self.load_started = asyncio.Event()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        yield self

    async def scalars(self, _: object) -> list[str]:
        self.slug_queries += 1
        await self.gate.wait()
        return sorted(self.slugs)


class Cache(TenantConfigCache):
    def __init__(self, db: Database, clock: list[float]) -> None:
        box = SecretBox([Fernet.generate_key().decode()])
        super().__init__(db.session, box, ttl_s=2.0, monotonic=lambda: clock[0])  # type: ignore[arg-type]
        self.db = db

    async def _load(self, slug: str) -> TenantConfig | None:
        self.db.loads.append(slug)
        self.db.load_started.set()
        tier = TierLimits(f"tier-{len(self.db.loads)}", 1, 1, 1)
        await self.db.gate.wait()
        await self.db.load_gate.wait()
        return TenantConfig(slug, "DE", tier)


async def test_concurrent_misses_share_one_query_and_one_load() -> None:
    db, clock = Database({"acme"}), [0.0]
    db.load_gate.set()
    cache = Cache(db, clock)
    waiting = [asyncio.ensure_future(cache.get(s)) for s in ["acme"] * 20 + ["nobody"] * 5]
    await asyncio.sleep(0)
    db.gate.set()
    found = await asyncio.gather(*waiting)
    assert db.slug_queries == 1
    assert db.loads == ["acme"]
    assert {c.slug for c in found[:20] if c is not None} == {"acme"}
    assert found[20:] == [None] * 5
    clock[0] = 2.5  # expired: the next misses share one refresh again
    await asyncio.gather(*(cache.get("acme") for _ in range(10)))
    assert db.slug_queries == 2
    assert db.loads == ["acme", "acme"]


async def test_a_waiter_cancelled_does_not_cancel_the_refresh_for_the_others() -> None:
    db, clock = Database({"acme"}), [0.0]
    db.load_gate.set()
    cache = Cache(db, clock)
    first, second = (
        asyncio.ensure_future(cache.get("acme")),
        asyncio.ensure_future(cache.get("acme")),
    )
    await asyncio.sleep(0)
    first.cancel()
    db.gate.set()
    config = await second
    assert first.cancelled()
    assert config is not None
    assert db.slug_queries == 1


async def test_invalidation_during_a_load_is_not_undone_by_it() -> None:
    db, clock = Database({"acme"}), [0.0]
    cache = Cache(db, clock)
    db.gate.set()  # the slug set is read at once, the config loads wait for load_gate
    stale = asyncio.ensure_future(cache.get("acme"))
    await db.load_started.wait()
    db.load_started.clear()
    cache.invalidate("acme")  # e.g. a new secret, while the old config is being read
    fresh = asyncio.ensure_future(cache.get("acme"))
    await asyncio.wait_for(db.load_started.wait(), 5)  # fresh's own load, not a join
    db.load_gate.set()
    await asyncio.gather(stale, fresh)
    assert len(db.loads) == 2  # the load after the invalidation did not join the old one
    latest = await cache.get("acme")
    assert latest is not None
    assert latest.tier.name == "tier-2"
