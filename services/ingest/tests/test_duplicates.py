"""``domain.duplicates``: a batch's duplicate decisions equal one-by-one decisions (pure);
``adapters.lead_store.earliest_matches`` answers as the reference look-up does, against
real PostgreSQL, without reading every lead of the tenant."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts import Lead
from leadflow_ingest.adapters.lead_store import (
    _EARLIEST,
    Match,
    Probe,
    earliest_matches,
    save_leads,
)
from leadflow_ingest.domain.duplicates import Earlier, duplicates_in_batch
from leadflow_ingest.settings import Settings
from servicekit.db import create_engine, session_factory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)


def matches(a: Lead, b: Lead) -> bool:
    """The look-up of ``adapters.lead_store.earliest_matches``, for ``a`` against ``b``."""
    same_contact = (a.email is not None and a.email == b.email) or (
        a.phone is not None and a.phone == b.phone
    )
    return (
        a.tenant_id == b.tenant_id
        and a.lead_id != b.lead_id
        and a.received_at - WINDOW <= b.received_at <= a.received_at
        and same_contact
    )


def earliest(lead: Lead, table: list[Lead]) -> Earlier | None:
    found = [(x.received_at, x.lead_id) for x in table if matches(lead, x)]
    return min(found) if found else None


def one_by_one(stored: list[Lead], batch: list[Lead]) -> list[uuid.UUID | None]:
    """The reference: each lead looked up against the table, then inserted."""
    table, result = list(stored), []
    for lead in batch:
        found = earliest(lead, table)
        result.append(found[1] if found else None)
        table.append(lead)
    return result


def lead(tenant: int, email: int | None, phone: int | None, minute: int, ident: int) -> Lead:
    return Lead(
        lead_id=uuid.UUID(int=ident),
        tenant_id=f"t{tenant}",
        source="generic",
        email=None if email is None else f"e{email}@x.example",
        phone=None if phone is None else f"+4930{phone:06d}",
        received_at=T0 + timedelta(days=minute % 40, minutes=minute),
    )


contacts = st.builds(
    lambda tenant, email, phone, minute: (tenant, email, phone, minute),
    st.integers(0, 1),
    st.none() | st.integers(0, 2),
    st.none() | st.integers(0, 2),
    st.integers(0, 2000),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(contacts, max_size=16), st.integers(0, 16))
def test_batch_decisions_equal_one_by_one(pool: list[Any], split: int) -> None:
    """As the worker calls it: the batch's leads are distinct and none is stored yet
    (the inbox took redelivered events out of the batch)."""
    everyone = [lead(*contact, ident) for ident, contact in enumerate(pool, 1)]
    stored, batch = everyone[:split], everyone[split:]
    stored_matches = {
        i: found for i, x in enumerate(batch) if (found := earliest(x, stored)) is not None
    }
    assert duplicates_in_batch(batch, stored_matches, WINDOW) == one_by_one(stored, batch)


def test_a_lead_is_never_a_duplicate_of_a_later_one() -> None:
    first = lead(0, 1, None, 10, 1)
    earlier = lead(0, 1, None, 5, 2)  # later in the batch, received before ``first``
    assert duplicates_in_batch([first, earlier], {}, WINDOW) == [None, None]
    assert duplicates_in_batch([earlier, first], {}, WINDOW) == [None, earlier.lead_id]


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
