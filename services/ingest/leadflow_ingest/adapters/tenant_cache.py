"""A short-lived cache of tenant configuration (tier, region, decrypted signing keys).

Admin changes made through this replica invalidate the entry at once; changes made
through another replica apply within ``ttl_s``.

Whether a slug exists is answered from the set of every tenant slug (one query for all
of them per ``ttl_s``), never by a query for that slug: a made-up slug costs what a known,
cached one costs, so neither a flood of made-up slugs reaches the database nor does the
answer time tell which slugs exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tables import sources as sources_table
from leadflow_ingest.adapters.tables import tenants, tiers, webhook_secrets
from leadflow_ingest.domain.signatures import SigningKey
from leadflow_ingest.domain.tenancy import TenantConfig, TierLimits


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

    def invalidate(self, slug: str | None = None) -> None:
        self._slugs = (float("-inf"), frozenset())
        if slug is None:
            self._entries.clear()
        else:
            self._entries.pop(slug, None)

    async def get(self, slug: str) -> TenantConfig | None:
        now = self._monotonic()
        if self._slugs[0] <= now:
            async with self._sessions() as session:
                slugs = frozenset(await session.scalars(select(tenants.c.slug)))
            self._slugs = (now + self._ttl, slugs)
        if slug not in self._slugs[1]:
            return None
        hit = self._entries.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        config = await self._load(slug)
        self._entries[slug] = (now + self._ttl, config)
        return config

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
