"""The webhook ledger against real PostgreSQL: the pipelined replay guard + rate/quota
reservation (``ingest_reserve``) counts all or nothing, and only a claim that holds the
guard row leaves anything behind."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from leadflow_ingest.adapters.tables import accepted_webhooks, usage_counters
from leadflow_ingest.adapters.webhook_ledger import Claim, LedgerConnection, WebhookLedger
from leadflow_ingest.domain.quota import windows
from leadflow_ingest.settings import Settings
from servicekit.db import create_engine
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

NOW = datetime(2030, 1, 15, 12, 30, 10, tzinfo=UTC)
W = windows(NOW)


async def reserve(
    db: LedgerConnection,
    tenant: str,
    webhook_id: str,
    lead_id: uuid.UUID,
    *,
    per_minute: int = 10,
    per_month: int = 10,
) -> Claim:
    return await db.reserve_and_claim(
        tenant=tenant,
        webhook_id=webhook_id,
        source="generic",
        lead_id=lead_id,
        now=NOW,
        windows=W,
        per_minute=per_minute,
        per_month=per_month,
        record={"topic": "lead.received", "key": str(lead_id), "value": {}, "headers": {}},
    )


async def counts(engine: AsyncEngine, tenant: str) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(usage_counters.c.window, usage_counters.c.count).where(
                usage_counters.c.tenant == tenant
            )
        )
        return {r.window: r.count for r in rows}


async def test_reservation_is_all_or_nothing_and_release_gives_it_back(
    ready: Settings, unique: str
) -> None:
    engine = create_engine(ready.database_url)
    ledger = WebhookLedger(engine)
    tenant = f"t-{unique}"[:63]
    ids = iter(range(100))

    async def guard_rows() -> int:
        async with engine.connect() as conn:
            query = select(func.count()).where(accepted_webhooks.c.tenant == tenant)
            return int((await conn.execute(query)).scalar_one())

    async def attempt(per_minute: int, per_month: int, *, commit: bool = True) -> Claim:
        async with ledger.connection() as db:
            claim = await reserve(
                db,
                tenant,
                f"wh-{next(ids)}",
                uuid.uuid4(),
                per_minute=per_minute,
                per_month=per_month,
            )
            if claim.holds and commit:
                await db.commit()
            return claim

    try:
        assert (await attempt(2, 1)).holds
        # The month is full: refused as "quota", the minute bump undone, and the guard
        # row the pipeline inserted speculatively is gone with the rollback.
        assert await attempt(2, 1) == Claim(None, "quota")
        assert await counts(engine, tenant) == {W.minute: 1, W.month: 1}
        assert await guard_rows() == 1
        assert (await attempt(2, 9)).holds
        # The minute is full: refused as "rate", nothing counted.
        assert await attempt(2, 9) == Claim(None, "rate")
        assert await counts(engine, tenant) == {W.minute: 2, W.month: 2}
        # Both full: "rate" (the window that frees up first).
        assert await attempt(2, 2) == Claim(None, "rate")
        assert await counts(engine, tenant) == {W.minute: 2, W.month: 2}
        async with ledger.connection() as db:
            await db.release(tenant, W)
        assert await counts(engine, tenant) == {W.minute: 1, W.month: 1}
        assert await attempt(0, 9) == Claim(None, "rate")
        assert await attempt(9, 0) == Claim(None, "quota")
        assert await counts(engine, tenant) == {W.minute: 1, W.month: 1}
        # A claim given up (the publish failed) leaves no guard row.
        assert (await attempt(9, 9, commit=False)).holds
        assert await guard_rows() == 2
    finally:
        await engine.dispose()


async def test_a_known_webhook_id_is_answered_without_counting(
    ready: Settings, unique: str
) -> None:
    engine = create_engine(ready.database_url)
    ledger = WebhookLedger(engine)
    tenant = f"t-{unique}"[:63]
    first, second = uuid.uuid4(), uuid.uuid4()

    async def claim(lead_id: uuid.UUID) -> Claim:
        async with ledger.connection() as db:
            result = await reserve(db, tenant, "same", lead_id)
            if result.holds:
                await db.commit()
            return result

    try:
        assert (await claim(first)).holds
        assert await claim(second) == Claim(first, None)
        assert await counts(engine, tenant) == {W.minute: 1, W.month: 1}
    finally:
        await engine.dispose()


async def test_the_loser_of_a_race_gets_the_winners_lead_and_its_count_back(
    ready: Settings, unique: str
) -> None:
    """Two identical requests in flight: the second's guard row waits for the first's
    transaction (open while the first publishes); once it commits, the second answers
    with the first's lead_id and gives its own reservation back."""
    engine = create_engine(ready.database_url)
    ledger = WebhookLedger(engine)
    tenant = f"t-{unique}"[:63]
    first, second = uuid.uuid4(), uuid.uuid4()

    async def loser() -> Claim:
        async with ledger.connection() as db:
            return await reserve(db, tenant, "raced", second)

    async def waiting_on_a_lock() -> int:
        async with engine.connect() as conn:
            query = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO accepted_webhooks%'"
            )
            return int((await conn.execute(query)).scalar_one())

    try:
        async with ledger.connection() as db:
            assert (await reserve(db, tenant, "raced", first)).holds
            racing = asyncio.create_task(loser())
            deadline = asyncio.get_running_loop().time() + 10
            while await waiting_on_a_lock() == 0:
                assert not racing.done(), racing.result()
                assert asyncio.get_running_loop().time() < deadline, "no request waits"
                await asyncio.sleep(0.05)
            await db.commit()
        assert await racing == Claim(first, None)
        assert await counts(engine, tenant) == {W.minute: 1, W.month: 1}
    finally:
        await engine.dispose()
