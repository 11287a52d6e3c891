"""The dead-letter API (``/v1/dead-letters``): list, inspect, replay, discard.

Every route needs an operator (or higher) token. A token sees the records of its
tenants; records whose tenant is unknown (the value is not an envelope) only ``*``
tokens see. A record the caller may not see is answered with 404, like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import INT4_MAX, Key, Name, SearchText
from servicekit.openapi import problems
from servicekit.problems import ProblemError

from leadflow_dlq.adapters import store
from leadflow_dlq.api.models import (
    BulkReplayIn,
    BulkReplayOut,
    DeadLetterDetail,
    DeadLetterOut,
    DeadLetterPage,
    DiscardIn,
    StatusName,
)
from leadflow_dlq.domain.capture import Filter
from leadflow_dlq.domain.lifecycle import TransitionRefused
from leadflow_dlq.handlers.operate import DeadLetterOps, NotFound
from leadflow_dlq.settings import Settings

router = APIRouter(prefix="/v1", tags=["dead-letters"])
OPERATOR = require(Role.operator)


def _ops(request: Request) -> DeadLetterOps:
    ops: DeadLetterOps = request.app.state.dead_letter_ops
    return ops


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


def _not_found(dead_letter_id: uuid.UUID) -> ProblemError:
    return ProblemError(
        404,
        "not-found",
        "Not found",
        f"No dead letter {dead_letter_id} is visible to this token.",
    )


def _conflict(exc: TransitionRefused) -> ProblemError:
    return ProblemError(409, "conflict", "Not allowed in this status", str(exc))


async def _detail(request: Request, dead_letter_id: uuid.UUID, principal: Principal) -> Any:
    async with request.app.state.runtime.sessions() as session:
        row = await store.get(session, dead_letter_id, principal.tenant_filter())
        if row is None:
            raise _not_found(dead_letter_id)
        history = await store.history_of(session, dead_letter_id)
    return DeadLetterDetail.detail(row, history)


@router.get("/dead-letters", response_model=DeadLetterPage)
async def list_dead_letters(
    request: Request,
    principal: Principal = OPERATOR,
    topic: Annotated[Name | None, Query(description="Original topic (registry name).")] = None,
    status: StatusName | None = None,
    tenant: Key | None = None,
    error: Annotated[
        SearchText | None, Query(description="Substring of the exception class or message.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=INT4_MAX)] = 50,
    after: Annotated[uuid.UUID | None, Query(description="Id of the last item seen.")] = None,
) -> Any:
    if tenant is not None:
        principal.require_tenant(tenant)
    limit = min(limit, _settings(request).list_max)
    flt = Filter(topic=topic, status=status, tenant=tenant, error=error)
    async with request.app.state.runtime.sessions() as session:
        rows = await store.search(session, flt, principal.tenant_filter(), limit=limit, after=after)
    items = [DeadLetterOut.of(row) for row in rows]
    return DeadLetterPage(items=items, next=items[-1].id if len(items) == limit else None)


@router.get("/dead-letters/{dead_letter_id}", response_model=DeadLetterDetail)
async def get_dead_letter(
    dead_letter_id: uuid.UUID, request: Request, principal: Principal = OPERATOR
) -> Any:
    return await _detail(request, dead_letter_id, principal)


@router.post(
    "/dead-letters/{dead_letter_id}:replay",
    response_model=DeadLetterDetail,
    responses=problems(s409="Not allowed in the record's status."),
)
async def replay_dead_letter(
    dead_letter_id: uuid.UUID, request: Request, principal: Principal = OPERATOR
) -> Any:
    """Republish to the original topic (same key, value, headers plus ``x-replay-of`` and
    ``x-replay-count``); answered after the broker acknowledged it."""
    try:
        await _ops(request).replay(
            dead_letter_id, actor=principal.sub, scope=principal.tenant_filter()
        )
    except NotFound:
        raise _not_found(dead_letter_id) from None
    except TransitionRefused as exc:
        raise _conflict(exc) from None
    except Exception:
        raise ProblemError(
            503,
            "broker-unavailable",
            "Broker unavailable",
            "The record could not be published; it was not marked replayed. Retry later.",
            headers={"Retry-After": "5"},
        ) from None
    return await _detail(request, dead_letter_id, principal)


@router.post(
    "/dead-letters/{dead_letter_id}:discard",
    response_model=DeadLetterDetail,
    responses=problems(s409="Not allowed in the record's status."),
)
async def discard_dead_letter(
    dead_letter_id: uuid.UUID, body: DiscardIn, request: Request, principal: Principal = OPERATOR
) -> Any:
    try:
        await _ops(request).discard(
            dead_letter_id,
            actor=principal.sub,
            scope=principal.tenant_filter(),
            reason=body.reason,
        )
    except NotFound:
        raise _not_found(dead_letter_id) from None
    except TransitionRefused as exc:
        raise _conflict(exc) from None
    return await _detail(request, dead_letter_id, principal)


@router.post("/dead-letters:replay", response_model=BulkReplayOut)
async def replay_dead_letters(
    body: BulkReplayIn, request: Request, principal: Principal = OPERATOR
) -> Any:
    """Replay the matching records, oldest first, at most ``limit`` (and the server's
    ``bulk_replay_max``); ``more`` says whether others matched beyond the bound."""
    if body.tenant is not None:
        principal.require_tenant(body.tenant)
    limit = min(body.limit, _settings(request).bulk_replay_max)
    flt = Filter(topic=body.topic, status=body.status, tenant=body.tenant, error=body.error)
    result = await _ops(request).replay_matching(
        flt, actor=principal.sub, scope=principal.tenant_filter(), limit=limit
    )
    out = BulkReplayOut(
        replayed=len(result.replayed),
        ids=result.replayed,
        skipped=result.skipped,
        more=result.more,
        limit=limit,
    )
    if result.error is not None:
        raise ProblemError(
            503,
            "broker-unavailable",
            "Bulk replay stopped",
            result.error,
            headers={"Retry-After": "5"},
            **out.model_dump(mode="json"),
        )
    return out
