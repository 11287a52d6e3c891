"""The webhook ledger against real PostgreSQL: the pipelined replay guard + rate/quota
reservation (``ingest_reserve``) counts all or nothing, only a claim that holds the
guard row leaves anything behind, and a group of webhooks gets the answers each would
have had on its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from leadflow_ingest.adapters.tables import accepted_webhooks, usage_counters
from leadflow_ingest.adapters.webhook_ledger import (
    Claim,
    ClaimRequest,
    LedgerConnection,
    WebhookLedger,
)
from leadflow_ingest.domain.quota import windows
from leadflow_ingest.settings import Settings
from servicekit.db import create_engine
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

NOW = datetime(2030, 1, 15, 12, 30, 10, tzinfo=UTC)
W = windows(NOW)


def request(
    tenant: str,
    webhook_id: str,
    lead_id: uuid.UUID,
    *,
    per_minute: int = 10,
    per_month: int = 10,
) -> ClaimRequest:
    return ClaimRequest(
        tenant=tenant,
        webhook_id=webhook_id,
        source="generic",
        lead_id=lead_id,
        now=NOW,
        windows=W,
        per_minute=per_minute,
        per_month=per_month,
    )


def record(lead_id: uuid.UUID) -> dict[str, object]:
    return {"topic": "lead.received", "key": str(lead_id), "value": {}, "headers": {}}


async def reserve(
    db: LedgerConnection,
    tenant: str,
    webhook_id: str,
    lead_id: uuid.UUID,
    *,
    per_minute: int = 10,
    per_month: int = 10,
) -> Claim:
    wanted = request(tenant, webhook_id, lead_id, per_minute=per_minute, per_month=per_month)
    (claim,) = await db.claim([wanted])
    return claim


async def commit_guard(db: LedgerConnection, lead_id: uuid.UUID) -> None:
    await db.finish([], [(record(lead_id), NOW)])


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
            lead_id = uuid.uuid4()
            claim = await reserve(
                db, tenant, f"wh-{next(ids)}", lead_id, per_minute=per_minute, per_month=per_month
            )
            if claim.holds and commit:
                await commit_guard(db, lead_id)
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
                await commit_guard(db, lead_id)
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
            await commit_guard(db, first)
        lost = await racing
        assert lost == Claim(first, None)
        assert lost.uncount  # counted; the caller gives it back once its group is done
        async with ledger.connection() as db:
            await db.release(tenant, W)
        assert await counts(engine, tenant) == {W.minute: 1, W.month: 1}
    finally:
        await engine.dispose()


async def test_a_group_gets_the_answers_of_one_by_one_and_commits_only_the_accepted(
    ready: Settings, unique: str
) -> None:
    """One round trip for four webhooks: a known id, two that fit the minute's rate of 3,
    one over it. Of the two counted, one is accepted and one is dropped (as when the broker
    refuses its record): only the accepted one's guard row and record commit."""
    engine = create_engine(ready.database_url)
    ledger = WebhookLedger(engine)
    tenant = f"t-{unique}"[:63]
    lead = {name: uuid.uuid4() for name in "abcd"}
    group = [request(tenant, name, lead[name], per_minute=3) for name in "abcd"]

    async def guard_rows() -> set[str]:
        async with engine.connect() as conn:
            query = select(accepted_webhooks.c.webhook_id).where(
                accepted_webhooks.c.tenant == tenant
            )
            return set((await conn.execute(query)).scalars())

    async def retained() -> set[str]:
        async with engine.connect() as conn:
            keys = [str(v) for v in lead.values()]
            query = text("SELECT record->>'key' FROM outbox WHERE record->>'key' = ANY(:keys)")
            return set((await conn.execute(query, {"keys": keys})).scalars())

    try:
        async with ledger.connection() as db:
            assert (await reserve(db, tenant, "a", lead["a"], per_minute=3)).holds
            await commit_guard(db, lead["a"])
        async with ledger.connection() as db:
            claims = await db.claim(group)
            assert claims == [
                Claim(lead["a"], None),
                Claim(None, None),
                Claim(None, None),
                Claim(None, "rate"),
            ]
            # Uncommitted: another connection sees only "a".
            assert await guard_rows() == {"a"}
            await db.finish([group[1], group[3]], [(record(lead["c"]), NOW)])
        assert await guard_rows() == {"a", "c"}
        assert await retained() == {str(lead["a"]), str(lead["c"])}
        # "b" was counted and is the caller's to give back; "d" never was.
        assert await counts(engine, tenant) == {W.minute: 3, W.month: 3}
    finally:
        await engine.dispose()
