"""Which earlier lead a lead duplicates (same tenant and email or phone) — for a batch.

Pure: the database supplies, for each lead of a batch, the earliest *stored* lead it
duplicates; the rest is decided here against the leads earlier in the same batch, so the
result is what handling the batch one lead at a time, in order, would have stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from leadflow_contracts import Lead

#: (received_at, lead_id): the order in which the earliest duplicate is chosen.
Earlier = tuple[datetime, uuid.UUID]


def contact_keys(lead: Lead) -> list[tuple[str, str]]:
    keys = [(lead.tenant_id, f"e:{lead.email}")] if lead.email else []
    return keys + ([(lead.tenant_id, f"p:{lead.phone}")] if lead.phone else [])


def duplicates_in_batch(
    leads: Sequence[Lead], stored: Mapping[int, Earlier], window: timedelta
) -> list[uuid.UUID | None]:
    """``duplicate_of`` for each lead (batch order). ``stored[i]`` is the earliest stored
    lead matching ``leads[i]`` received in [its receipt - window, its receipt]. A lead is
    never flagged as a duplicate of one received after it. As the worker calls it, the
    leads are distinct and none is stored yet (the inbox takes redelivered events out);
    ``tests/test_duplicates.py`` checks the result against one-by-one handling."""
    seen: dict[tuple[str, str], list[Earlier]] = {}
    placed: set[uuid.UUID] = set()
    result: list[uuid.UUID | None] = []
    for i, lead in enumerate(leads):
        since, until = lead.received_at - window, lead.received_at
        keys = contact_keys(lead)
        candidates = [stored[i]] if i in stored else []
        for key in keys:
            candidates += [
                e for e in seen.get(key, ()) if e[1] != lead.lead_id and since <= e[0] <= until
            ]
        result.append(min(candidates)[1] if candidates else None)
        if lead.lead_id not in placed:  # a second copy would not be stored either
            placed.add(lead.lead_id)
            for key in keys:
                seen.setdefault(key, []).append((lead.received_at, lead.lead_id))
    return result
