"""The shared rate/quota counters against real PostgreSQL (single-statement reservation)."""

from __future__ import annotations

from datetime import UTC, datetime

from leadflow_ingest.adapters.tables import usage_counters
from leadflow_ingest.adapters.webhook_store import UsageCounters
from leadflow_ingest.domain.quota import windows
from leadflow_ingest.settings import Settings
from servicekit.db import create_engine, session_factory
from sqlalchemy import select


async def test_reservation_is_all_or_nothing_and_release_gives_it_back(
    ready: Settings, unique: str
) -> None:
    engine = create_engine(ready.database_url)
    usage = UsageCounters(session_factory(engine))
    tenant = f"t-{unique}"[:63]
    w = windows(datetime(2030, 1, 15, 12, 30, 10, tzinfo=UTC))

    async def counts() -> dict[str, int]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(usage_counters.c.window, usage_counters.c.count).where(
                    usage_counters.c.tenant == tenant
                )
            )
            return {r.window: r.count for r in rows}

    try:
        assert await usage.reserve(tenant, w, per_minute=2, per_month=1) is None
        # The month is full: refused as "quota", and the minute bump is rolled back.
        assert await usage.reserve(tenant, w, per_minute=2, per_month=1) == "quota"
        assert await counts() == {w.minute: 1, w.month: 1}
        assert await usage.reserve(tenant, w, per_minute=2, per_month=9) is None
        # The minute is full: refused as "rate", nothing counted.
        assert await usage.reserve(tenant, w, per_minute=2, per_month=9) == "rate"
        assert await counts() == {w.minute: 2, w.month: 2}
        await usage.release(tenant, w)
        assert await counts() == {w.minute: 1, w.month: 1}
        assert await usage.reserve(tenant, w, per_minute=0, per_month=9) == "rate"
        assert await usage.reserve(tenant, w, per_minute=9, per_month=0) == "quota"
        assert await counts() == {w.minute: 1, w.month: 1}
    finally:
        await engine.dispose()
