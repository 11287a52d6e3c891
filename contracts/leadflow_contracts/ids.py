"""Deterministic ids: the backbone of effectively-once processing.

Every id here is a pure function of its inputs, so re-processing a redelivered message
yields byte-identical events and every consumer can dedupe on ``event_id``.
The namespace below is part of the public contract: changing it changes every id.
"""

from __future__ import annotations

import uuid

#: Namespace for lead ids. Fixed forever (uuid5 of the project URL).
LEAD_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/ns/lead")


def lead_id_for(tenant_id: str, source: str, webhook_id: str) -> uuid.UUID:
    """The lead id of webhook ``webhook_id`` posted to ``tenant_id``/``source``."""
    return uuid.uuid5(LEAD_NAMESPACE, f"{tenant_id}:{source}:{webhook_id}")


def received_event_id(lead_id: uuid.UUID) -> uuid.UUID:
    """The ``event_id`` of the ``lead.received`` event that starts a lead's journey."""
    return derived_event_id(lead_id, "lead.received")


def derived_event_id(
    causation_id: uuid.UUID, event_type: str, discriminator: str | int | None = None
) -> uuid.UUID:
    """The ``event_id`` of the ``event_type`` event caused by ``causation_id``.

    ``discriminator`` separates several events of one type from one cause
    (e.g. successive reassignments of one lead).
    """
    name = event_type if discriminator is None else f"{event_type}#{discriminator}"
    return uuid.uuid5(causation_id, name)
