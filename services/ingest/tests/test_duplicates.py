"""``domain.duplicates``: a batch's duplicate decisions equal one-by-one decisions (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts import Lead
from leadflow_ingest.domain.duplicates import Earlier, duplicates_in_batch

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
