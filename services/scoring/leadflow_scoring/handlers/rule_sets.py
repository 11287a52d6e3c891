"""Storing a tenant's rule set: one ``command`` that appends an immutable version and
announces it with ``config.changed``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from servicekit.commands import Change, command
from servicekit.runtime import Runtime

from leadflow_scoring.adapters import rule_store
from leadflow_scoring.adapters.rule_store import StoredVersion
from leadflow_scoring.domain.rules import RuleSetSpec

ENTITY = "scoring_rule_set"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/ns/scoring/rule-set")


@dataclass(frozen=True)
class Stored:
    version: StoredVersion
    created: bool  # False: the body equalled the current version; nothing stored or emitted


def _public(stored: StoredVersion) -> dict[str, Any]:
    return {"version": stored.version, **stored.document()}


async def put_rule_set(runtime: Runtime, *, actor: str, tenant: str, body: RuleSetSpec) -> Stored:
    """A new version unless ``body`` equals the current one (so a retried PUT never piles
    up versions). The event id is a function of (tenant, version): a version is
    announced once."""
    async with command(runtime, actor=actor) as cmd:
        await rule_store.lock_tenant(cmd.session, tenant)
        before = await rule_store.current(cmd.session, tenant)
        if before.document() == body.model_dump(mode="json"):
            return Stored(before, created=False)
        after = await rule_store.append(cmd.session, tenant, body, actor)
        event_id = uuid.uuid5(_NAMESPACE, f"{tenant}:{after.version}")
        change = Change(
            tenant, ENTITY, tenant, "updated", _public(before), _public(after), event_id
        )
        await cmd.record(change)
    return Stored(after, created=True)
