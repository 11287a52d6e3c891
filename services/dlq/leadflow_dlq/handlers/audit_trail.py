"""``config.changed`` for operator actions on dead letters (entity ``dead_letter``).

Replays and discards change what the pipeline will process, so they go to the audit
record like every admin change. The event id is a function of (record, action, replay
count): re-publishing a staged event after a crash is deduped downstream.
"""

from __future__ import annotations

import uuid
from typing import Any

from leadflow_contracts import Producer
from servicekit.commands import Change, config_changed
from servicekit.events import Outgoing

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
    event_id = uuid.uuid5(_NAMESPACE, f"{dead_letter_id}:{action}")
    change = Change(
        tenant_id or "*", ENTITY, str(dead_letter_id), "updated", before, after, event_id
    )
    return config_changed(producer, actor, change)
