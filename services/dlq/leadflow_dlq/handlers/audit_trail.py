"""``config.changed`` for operator actions on dead letters (entity ``dead_letter``).

Replays and discards change what the pipeline will process, so they go to the audit
record like every admin change. The event id is a function of (record, action, replay
count): re-publishing a staged event after a crash is deduped downstream.
"""

from __future__ import annotations

import uuid
from typing import Any

from leadflow_contracts import ConfigChanged, Producer
from leadflow_contracts.topics import CONFIG_CHANGED
from servicekit.events import Outgoing, new_envelope

ENTITY = "dead_letter"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/ns/dlq/config-changed")


def dead_letter_changed(
    *,
    producer: Producer,
    dead_letter_id: uuid.UUID,
    tenant_id: str | None,
    actor: str,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Outgoing:
    """``action`` is ``replayed#<count>`` or ``discarded``; global records use tenant ``*``."""
    payload = ConfigChanged(
        actor=actor,
        service=producer.service,
        entity=ENTITY,
        entity_id=str(dead_letter_id),
        action="updated",
        before=before,
        after=after,
    )
    envelope = new_envelope(
        CONFIG_CHANGED,
        payload,
        producer=producer,
        event_id=uuid.uuid5(_NAMESPACE, f"{dead_letter_id}:{action}"),
        tenant_id=tenant_id or "*",
        correlation_id=f"config:{ENTITY}:{dead_letter_id}",
    )
    return Outgoing.of(CONFIG_CHANGED, envelope)
