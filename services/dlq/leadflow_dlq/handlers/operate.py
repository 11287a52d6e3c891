"""Operator actions: replay (one or many) and discard.

Replay order, so that a crash can never mark a record replayed that was not published:
lock the row, publish and wait for the broker's ack, *then* update status, history and
the staged ``config.changed`` in one transaction. A crash between the ack and the
commit leaves the record as it was, and the next replay publishes it again — harmless,
because every consumer dedupes on ``event_id``. The row lock serializes concurrent
actions on one record (two operators cannot both take replay number 3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from servicekit.commands import flush_outbox
from servicekit.logging import error_text, get_logger
from servicekit.outbox import stage
from servicekit.runtime import Runtime
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_dlq.adapters import store
from leadflow_dlq.adapters.store import Scope
from leadflow_dlq.domain.capture import Filter
from leadflow_dlq.domain.lifecycle import Action, Status, TransitionRefused, transition
from leadflow_dlq.domain.payloads import headers_from_json, replay_headers
from leadflow_dlq.handlers.audit_trail import dead_letter_changed
from leadflow_dlq.handlers.republish import republish
from leadflow_dlq.metrics import DlqMetrics

log = get_logger(__name__)
REPLAYABLE = (Status.pending.value, Status.replayed.value)


class NotFound(Exception):
    """No such dead letter, or not visible to the caller (indistinguishable on purpose)."""


@dataclass
class BulkResult:
    replayed: list[uuid.UUID] = field(default_factory=list)
    skipped: list[uuid.UUID] = field(default_factory=list)
    more: bool = False
    error: str | None = None


class DeadLetterOps:
    def __init__(self, runtime: Runtime, metrics: DlqMetrics) -> None:
        self._runtime = runtime
        self._metrics = metrics

    def _state(self, row: Row[Any]) -> dict[str, Any]:
        return {"status": row.status, "replay_count": row.replay_count}

    async def _record(
        self,
        session: AsyncSession,
        dead_letter_id: uuid.UUID,
        row: Row[Any],
        *,
        actor: str,
        action: Action,
        status: Status,
        count: int,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
        suffix: str = "",
    ) -> None:
        """Mark the record, add its history line and stage ``dead_letter.changed`` (the
        change's ``action`` is the history action plus ``suffix``, e.g. ``replayed#2``)."""
        await store.mark(session, dead_letter_id, status, count)
        await store.add_history(session, dead_letter_id, actor, action, reason, detail)
        after: dict[str, Any] = {"status": status.value, "replay_count": count}
        if reason is not None:
            after["reason"] = reason
        changed = dead_letter_changed(
            producer=self._runtime.producer,
            dead_letter_id=dead_letter_id,
            tenant_id=row.tenant_id,
            actor=actor,
            action=f"{action.value}{suffix}",
            before=self._state(row),
            after=after,
        )
        await stage(session, changed)

    async def replay(self, dead_letter_id: uuid.UUID, *, actor: str, scope: Scope) -> None:
        """Raises NotFound, TransitionRefused, or the publish error (nothing marked)."""
        runtime = self._runtime
        async with runtime.sessions() as session, session.begin():
            row = await store.get(session, dead_letter_id, scope, lock=True)
            if row is None:
                raise NotFound(str(dead_letter_id))
            status = transition(Status(row.status), Action.replayed)
            if not row.original_topic:
                raise TransitionRefused("the original topic of this record is unknown")
            count = row.replay_count + 1
            headers = replay_headers(
                headers_from_json(row.headers), replay_of=str(dead_letter_id), count=count
            )
            await republish(runtime.raw_producer, row.original_topic, row.key, row.value, headers)
            detail = {"topic": row.original_topic, "replay_count": count}
            await self._record(
                session,
                dead_letter_id,
                row,
                actor=actor,
                action=Action.replayed,
                status=status,
                count=count,
                detail=detail,
                suffix=f"#{count}",
            )
        await self._after_change()

    async def discard(
        self, dead_letter_id: uuid.UUID, *, actor: str, scope: Scope, reason: str
    ) -> None:
        runtime = self._runtime
        async with runtime.sessions() as session, session.begin():
            row = await store.get(session, dead_letter_id, scope, lock=True)
            if row is None:
                raise NotFound(str(dead_letter_id))
            status = transition(Status(row.status), Action.discarded)
            await self._record(
                session,
                dead_letter_id,
                row,
                actor=actor,
                action=Action.discarded,
                status=status,
                count=row.replay_count,
                reason=reason,
            )
        await self._after_change()

    async def replay_matching(
        self, flt: Filter, *, actor: str, scope: Scope, limit: int
    ) -> BulkResult:
        """Replay up to ``limit`` matching records, oldest first, one transaction each.

        Stops at the first publish failure (the broker is likely down) and says so;
        what was replayed until then stays replayed.
        """
        async with self._runtime.sessions() as session:
            rows = await store.search(session, flt, scope, limit=limit + 1, statuses=REPLAYABLE)
        result = BulkResult(more=len(rows) > limit)
        for row in rows[:limit]:
            try:
                await self.replay(row.id, actor=actor, scope=scope)
            except (NotFound, TransitionRefused):
                result.skipped.append(row.id)  # changed by someone else meanwhile
            except Exception as exc:
                log.warning("bulk replay stopped", error=error_text(exc))
                result.error = f"publishing failed ({type(exc).__name__}); the rest was not tried"
                break
            else:
                result.replayed.append(row.id)
        return result

    async def _after_change(self) -> None:
        await flush_outbox(self._runtime)
        await self._metrics.refresh_depth(self._runtime.sessions)
