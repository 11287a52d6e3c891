"""``adapters.lead_store.earliest_matches`` answers as the reference look-up does, against
real PostgreSQL, without reading every lead of the tenant."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from leadflow_contracts import Lead
from leadflow_ingest.adapters.lead_store import (
    _EARLIEST,
    Match,
    Probe,
    earliest_matches,
    save_leads,
)
from leadflow_ingest.settings import Settings
from servicekit.db import create_engine, session_factory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingest.tests.duplicates_reference import T0, WINDOW, earliest, lead


@pytest.fixture
async def session(ready: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(ready.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def probe(x: Lead) -> Probe:
    return Probe(x.tenant_id, x.lead_id, x.email, x.phone, x.received_at - WINDOW, x.received_at)


async def test_the_database_look_up_equals_the_reference(session: AsyncSession) -> None:
    """Random leads sharing few emails and phones (ties in receipt time included): the
    earliest stored match of each probe, as ``earliest`` finds it in memory."""
    rng = random.Random(20261202)
    stored = [
        lead(
            rng.randint(0, 1),
            rng.choice([None, 0, 1, 2]),
            rng.choice([None, 0, 1, 2]),
            rng.randint(0, 300) * 7,  # coarse minutes: equal receipt times happen
            ident,
        )
        for ident in range(1, 401)
    ]
    await save_leads(session, stored)
    probes = [
        lead(rng.randint(0, 1), rng.choice([None, 0, 1, 2, 3]), rng.choice([None, 0, 1, 3]), m, i)
        for i, m in ((10_000 + n, rng.randint(0, 2100)) for n in range(150))
    ]
    probes += stored[:50]  # a stored lead is not its own duplicate

    found = await earliest_matches(session, [probe(x) for x in probes])

    expected = {
        i: Match(*match) for i, x in enumerate(probes) if (match := earliest(x, stored)) is not None
    }
    assert found == expected
    assert len(expected) > 100  # the data exercises the look-up


async def test_a_look_up_reads_only_the_leads_with_that_contact(session: AsyncSession) -> None:
    """2,000 leads of one tenant, none analyzed yet: a probe reads a handful of index
    entries, not every lead of the tenant (the planner once chose exactly that)."""
    await save_leads(session, [lead(0, n, None, n, n + 1) for n in range(2_000)])
    newcomer, known = lead(0, 99_999, 7, 1_999, 50_000), lead(0, 1_500, None, 1_999, 50_001)
    params = {
        "i": [0, 1],
        "tenant": [newcomer.tenant_id, known.tenant_id],
        "lead_id": [newcomer.lead_id, known.lead_id],
        "email": [newcomer.email, known.email],
        "phone": [newcomer.phone, known.phone],
        "since": [newcomer.received_at - WINDOW, known.received_at - WINDOW],
        "until": [newcomer.received_at, known.received_at],
    }
    explain = text("EXPLAIN (ANALYZE, FORMAT JSON) " + str(_EARLIEST.text))
    plan = (await session.execute(explain, params)).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def visited(node: dict[str, Any]) -> int:
        own = 0
        if node.get("Relation Name") == "leads":
            own = node["Actual Rows"] * node["Actual Loops"] + node.get("Rows Removed by Filter", 0)
        return own + sum(visited(child) for child in node.get("Plans", ()))

    assert visited(plan[0]["Plan"]) <= 10
    assert (await earliest_matches(session, [probe(newcomer), probe(known)])) == {
        1: Match(T0 + timedelta(days=1_500 % 40, minutes=1_500), uuid.UUID(int=1_501))
    }
