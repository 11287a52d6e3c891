"""The audit API: timelines, event search, stuck leads, chain verification.

Every route needs a viewer token (or higher) and answers only with the token's tenants:
a lead of another tenant is "not found", never "forbidden" (that would confirm it
exists). ``config.changed`` of global entities (tenant ``*``) is visible to tokens for
every tenant only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from servicekit.auth import Principal, Role, require
from servicekit.inputs import INT8_MAX, Key, Name, SearchText
from servicekit.openapi import problems
from servicekit.problems import ProblemError

from leadflow_audit.adapters.queries import AuditQueries, EventFilter
from leadflow_audit.adapters.store import EventStore
from leadflow_audit.api.views import event_view, status_view
from leadflow_audit.metrics import ChainWatch

router = APIRouter(prefix="/v1", tags=["audit"])
Viewer = Annotated[Principal, require(Role.viewer)]

#: Far above any real age; without a bound a huge value moves the cut-off out of the
#: range of a datetime.
MAX_AGE_S = 10 * 366 * 86_400


def _queries(request: Request) -> AuditQueries:
    queries: AuditQueries = request.app.state.audit_queries
    return queries


def _store(request: Request) -> EventStore:
    store: EventStore = request.app.state.event_store
    return store


@router.get("/leads/{lead_id}/timeline")
async def lead_timeline(lead_id: uuid.UUID, request: Request, principal: Viewer) -> dict[str, Any]:
    """Every event of the lead in position order, each with what it says and why."""
    tenants = principal.tenant_filter()
    rows = await _queries(request).timeline(lead_id, tenants)
    if not rows:
        raise ProblemError(
            404,
            "lead-not-found",
            "Lead not found",
            f"No events of lead {lead_id} are visible to this token.",
        )
    status = await _queries(request).lead_status(lead_id, tenants)
    return {
        "lead_id": str(lead_id),
        "tenant_id": rows[0].tenant_id,
        "correlation_id": rows[0].correlation_id,
        "status": status_view(status, now=datetime.now(UTC)) if status else None,
        "events": [event_view(row) for row in rows],
    }


@router.get("/events", responses=problems(s400="No filter given."))
async def list_events(
    request: Request,
    principal: Viewer,
    correlation_id: SearchText | None = None,
    trace_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    tenant: Key | None = None,
    lead_id: uuid.UUID | None = None,
    event_type: Name | None = None,
    after: Annotated[
        int, Query(ge=0, le=INT8_MAX, description="Return events after this position.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    newest: Annotated[
        bool, Query(description="The latest matching events first (no paging: one page).")
    ] = False,
) -> dict[str, Any]:
    """Events matching every given filter, in position order; page with ``after``
    (``newest=true``: the latest ``limit`` events, newest first, e.g. for a dashboard)."""
    where = EventFilter(correlation_id, trace_id, tenant, lead_id, event_type)
    if all(value is None for value in (correlation_id, trace_id, tenant, lead_id)):
        raise ProblemError(
            400,
            "filter-required",
            "A filter is required",
            "Give correlation_id, trace_id, tenant or lead_id (and optionally after, limit).",
        )
    if tenant is not None:
        principal.require_tenant(tenant)
    rows = await _queries(request).events(
        where, principal.tenant_filter(), after=after, limit=limit, newest=newest
    )
    return {
        "events": [event_view(row) for row in rows],
        "next_after": rows[-1].position if len(rows) == limit and not newest else None,
    }


@router.get("/leads:stuck")
async def stuck_leads(
    request: Request,
    principal: Viewer,
    older_than: Annotated[
        int, Query(ge=0, le=MAX_AGE_S, description="Seconds without progress (≤ 10 years).")
    ] = 900,
    tenant: Key | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Leads whose stage is not terminal and whose last event is older than
    ``older_than`` seconds, oldest first."""
    if tenant is not None:
        principal.require_tenant(tenant)
    now = datetime.now(UTC)
    rows = await _queries(request).stuck(
        now - timedelta(seconds=older_than), principal.tenant_filter(), tenant=tenant, limit=limit
    )
    return {"older_than": older_than, "leads": [status_view(row, now=now) for row in rows]}


@router.get("/audit:verify")
async def verify_chain(request: Request, principal: Viewer) -> dict[str, Any]:
    """Walk the whole hash chain. ``count`` is the number of rows verified (for a token
    limited to some tenants: the verified rows of those tenants); when the chain is
    broken, ``first_broken_position`` names the first row that does not verify."""
    verdict, visible = await _store(request).verify(principal.tenant_filter())
    watch: ChainWatch = request.app.state.chain_watch
    watch.record(verdict)
    body: dict[str, Any] = {"ok": verdict.ok, "count": visible}
    if not verdict.ok:
        body["first_broken_position"] = verdict.first_broken_position
        body["reason"] = verdict.reason
    return body
