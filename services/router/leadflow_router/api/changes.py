"""``config.changed`` for every admin change, staged in the change's transaction."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from leadflow_contracts import ConfigChanged
from leadflow_contracts.topics import CONFIG_CHANGED
from servicekit.events import Outgoing, new_envelope
from servicekit.outbox import stage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession


async def record_change(
    session: AsyncSession,
    runtime: Runtime,
    *,
    actor: str,
    tenant_id: str,
    entity: str,
    entity_id: str,
    action: Literal["created", "updated", "deleted"],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    payload = ConfigChanged(
        actor=actor,
        service=runtime.settings.service_name,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
    )
    envelope = new_envelope(
        CONFIG_CHANGED,
        payload,
        producer=runtime.producer,
        event_id=uuid.uuid4(),
        tenant_id=tenant_id,
        correlation_id=f"config:{entity}:{entity_id}",
    )
    await stage(session, Outgoing.of(CONFIG_CHANGED, envelope))
