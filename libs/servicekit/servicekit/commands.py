"""Admin commands: one change in one transaction, announced by ``config.changed``.

Every admin change of every service has the same shape: open a transaction, load and
lock what changes, refuse (not found, conflict, invalid), write, stage ``config.changed``
in the same transaction (the outbox: the event exists if and only if the change was
committed), and after the commit try to publish the outbox at once. That last publish is
best effort: when the broker is down the change stands and the outbox relay publishes
the event later, so the caller is told of success either way.

Handlers (``services/*/handlers``) run their use case inside ``command(...)`` and raise
``Refused`` subclasses; the HTTP layer turns those into problem responses
(``servicekit.problems``), so handlers know nothing of HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from leadflow_contracts import ConfigChanged, Producer
from leadflow_contracts.topics import CONFIG_CHANGED
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.events import Outgoing, new_envelope
from servicekit.logging import get_logger
from servicekit.outbox import stage
from servicekit.runtime import Runtime

log = get_logger(__name__)

Action = Literal["created", "updated", "deleted"]
Snapshot = dict[str, Any] | None


class Refused(Exception):
    """A command the current state refuses; ``detail`` says what was wrong for the caller."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self, detail: str, *, title: str | None = None, field: str | None = None, message: str = ""
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if title is not None:
            self.title = title
        self.errors = None if field is None else [{"field": field, "message": message}]


class NotFound(Refused):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Refused):
    status, slug, title = 409, "conflict", "Conflict"


class Invalid(Refused):
    """The request names something the state cannot take (422, naming the field)."""

    status, slug, title = 422, "validation-error", "Invalid"


@dataclass(frozen=True)
class Change:
    """One admin change as ``config.changed`` tells it (snapshots never carry secrets).

    ``event_id`` is deterministic where a change can be staged twice for one cause
    (a rule-set version, a dead letter's replay); otherwise each event gets a fresh one.
    """

    tenant_id: str
    entity: str
    entity_id: str
    action: Action
    before: Snapshot
    after: Snapshot
    event_id: uuid.UUID | None = None


def config_changed(producer: Producer, actor: str, change: Change) -> Outgoing:
    """The ``config.changed`` record of ``change``, keyed by its tenant (the payload
    takes the change's fields by name and ignores its tenant and event id)."""
    payload = ConfigChanged(**vars(change), actor=actor, service=producer.service)
    envelope = new_envelope(
        CONFIG_CHANGED,
        payload,
        producer=producer,
        event_id=change.event_id or uuid.uuid4(),
        tenant_id=change.tenant_id,
        correlation_id=f"config:{change.entity}:{change.entity_id}",
    )
    return Outgoing.of(CONFIG_CHANGED, envelope)


async def flush_outbox(runtime: Runtime) -> None:
    """Publish staged events now; if the broker is down the outbox relay retries later."""
    try:
        await runtime.outbox.flush()
    except Exception as exc:
        log.warning("outbox flush deferred to the relay", error=type(exc).__name__)


@dataclass
class Command:
    """The open transaction of one admin command and who runs it."""

    session: AsyncSession
    runtime: Runtime
    actor: str

    async def record(self, change: Change) -> None:
        """Stage ``config.changed`` in this command's transaction (or use the shorthands
        ``created`` / ``updated`` / ``deleted``)."""
        await stage(self.session, config_changed(self.runtime.producer, self.actor, change))

    async def created(self, tenant_id: str, entity: str, entity_id: str, after: Snapshot) -> None:
        await self.record(Change(tenant_id, entity, entity_id, "created", None, after))

    async def updated(
        self, tenant_id: str, entity: str, entity_id: str, before: Snapshot, after: Snapshot
    ) -> None:
        await self.record(Change(tenant_id, entity, entity_id, "updated", before, after))

    async def deleted(self, tenant_id: str, entity: str, entity_id: str, before: Snapshot) -> None:
        await self.record(Change(tenant_id, entity, entity_id, "deleted", before, None))


@asynccontextmanager
async def command(runtime: Runtime, *, actor: str) -> AsyncIterator[Command]:
    """Run the block in one transaction; after its commit, flush the outbox (best effort).

    An exception in the block (``Refused`` or any other) rolls everything back, staged
    events included, and nothing is flushed.
    """
    async with runtime.sessions() as session, session.begin():
        yield Command(session, runtime, actor)
    await flush_outbox(runtime)
