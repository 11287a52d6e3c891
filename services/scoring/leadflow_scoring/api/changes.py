"""``config.changed`` for a new rule-set version, staged in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

from leadflow_contracts import ConfigChanged
from leadflow_contracts.topics import CONFIG_CHANGED
from servicekit.events import Outgoing, new_envelope
from servicekit.logging import get_logger
from servicekit.outbox import stage
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_scoring.adapters.rule_store import StoredVersion

log = get_logger(__name__)
ENTITY = "scoring_rule_set"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/ns/scoring/rule-set")


def _public(stored: StoredVersion) -> dict[str, Any]:
    return {"version": stored.version, **stored.document()}


async def record_new_version(
    session: AsyncSession,
    runtime: Runtime,
    *,
    actor: str,
    before: StoredVersion,
    after: StoredVersion,
) -> None:
    """The event id is a function of (tenant, version): a version is announced once."""
    payload = ConfigChanged(
        actor=actor,
        service=runtime.settings.service_name,
        entity=ENTITY,
        entity_id=after.tenant,
        action="updated",
        before=_public(before),
        after=_public(after),
    )
    envelope = new_envelope(
        CONFIG_CHANGED,
        payload,
        producer=runtime.producer,
        event_id=uuid.uuid5(_NAMESPACE, f"{after.tenant}:{after.version}"),
        tenant_id=after.tenant,
        correlation_id=f"config:{ENTITY}:{after.tenant}",
    )
    await stage(session, Outgoing.of(CONFIG_CHANGED, envelope))


async def flush(runtime: Runtime) -> None:
    """Publish staged changes now; if the broker is down the outbox relay retries."""
    try:
        await runtime.outbox.flush()
    except Exception as exc:
        log.warning("config.changed flush deferred to the relay", error=type(exc).__name__)
