"""Deterministic ids of router records (so a re-run decides the very same rows)."""

from __future__ import annotations

import uuid


def assignment_id_for(lead_id: uuid.UUID, sequence: int) -> uuid.UUID:
    """The ``sequence``-th assignment of a lead (0 = first, +1 per reassignment)."""
    return uuid.uuid5(lead_id, f"assignment#{sequence}")


def work_item_id_for(cause: uuid.UUID) -> uuid.UUID:
    """The work item opened because of ``cause`` (an input event or a breached assignment)."""
    return uuid.uuid5(cause, "work-item")
