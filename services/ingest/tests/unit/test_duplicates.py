"""``domain.duplicates``: a batch's duplicate decisions equal one-by-one decisions."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_ingest.domain.duplicates import duplicates_in_batch

from services.ingest.tests.duplicates_reference import WINDOW, earliest, lead, one_by_one

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
