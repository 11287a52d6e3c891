"""Reading and writing dead letters (SQLAlchemy Core over the caller's session).

Every query takes a ``Scope``: the tenants a caller may see, or ``None`` for all.
Records whose tenant is unknown (the value was not an envelope) are visible only to
an all-tenant scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from leadflow_dlq.adapters.tables import dead_letters as dl
from leadflow_dlq.adapters.tables import history
from leadflow_dlq.domain.capture import Filter, NewDeadLetter
from leadflow_dlq.domain.lifecycle import Action, Status

Scope = tuple[str, ...] | None
SYSTEM_ACTOR = "dlq"


async def insert_new(session: AsyncSession, record: NewDeadLetter) -> bool:
    """Store ``record`` unless it is already stored; True when it is new."""
    stored = (
        await session.execute(
            insert(dl)
            .values(**record.row(), status=Status.pending.value)
            .on_conflict_do_nothing()
            .returning(dl.c.id)
        )
    ).first()
    if stored is None:
        return False
    await add_history(session, record.id, SYSTEM_ACTOR, Action.received, None, None)
    return True


async def add_history(
    session: AsyncSession,
    dead_letter_id: uuid.UUID,
    actor: str,
    action: Action,
    reason: str | None,
    detail: dict[str, Any] | None,
) -> None:
    await session.execute(
        history.insert().values(
            dead_letter_id=dead_letter_id,
            actor=actor,
            action=action.value,
            reason=reason,
            detail=detail,
        )
    )


def _scoped(scope: Scope) -> ColumnElement[bool]:
    return dl.c.tenant_id.in_(scope) if scope is not None else and_(True)


def _filtered(flt: Filter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.topic:
        clauses.append(or_(dl.c.topic == flt.topic, dl.c.original_topic == flt.topic))
    if flt.status:
        clauses.append(dl.c.status == flt.status)
    if flt.tenant:
        clauses.append(dl.c.tenant_id == flt.tenant)
    if flt.error:
        pattern = "%" + flt.error.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        pattern += "%"
        clauses.append(
            or_(dl.c.exception_class.ilike(pattern), dl.c.exception_message.ilike(pattern))
        )
    return clauses


async def get(
    session: AsyncSession, dead_letter_id: uuid.UUID, scope: Scope, *, lock: bool = False
) -> Row[Any] | None:
    query = select(dl).where(dl.c.id == dead_letter_id, _scoped(scope))
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def search(
    session: AsyncSession,
    flt: Filter,
    scope: Scope,
    *,
    limit: int,
    after: uuid.UUID | None = None,
    statuses: Sequence[str] | None = None,
) -> list[Row[Any]]:
    """Oldest first; ``after`` is the id of the last record of the previous page."""
    query = select(dl).where(_scoped(scope), *_filtered(flt))
    if statuses is not None:
        query = query.where(dl.c.status.in_(statuses))
    if after is not None:
        cursor = select(dl.c.seq).where(dl.c.id == after).scalar_subquery()
        query = query.where(dl.c.seq > func.coalesce(cursor, -1))
    rows = await session.execute(query.order_by(dl.c.seq).limit(limit))
    return list(rows.all())


async def mark(
    session: AsyncSession, dead_letter_id: uuid.UUID, status: Status, replay_count: int
) -> None:
    await session.execute(
        update(dl)
        .where(dl.c.id == dead_letter_id)
        .values(status=status.value, replay_count=replay_count, updated_at=func.now())
    )


async def history_of(session: AsyncSession, dead_letter_id: uuid.UUID) -> list[Row[Any]]:
    rows = await session.execute(
        select(history)
        .where(history.c.dead_letter_id == dead_letter_id)
        .order_by(history.c.position)
    )
    return list(rows.all())


async def pending_depth(session: AsyncSession) -> dict[str, int]:
    """Pending records by (logical) original topic."""
    rows = await session.execute(
        select(func.coalesce(dl.c.topic, "unknown"), func.count())
        .where(dl.c.status == Status.pending.value)
        .group_by(dl.c.topic)
    )
    return {str(topic): int(count) for topic, count in rows.all()}
