"""``POST /v1/redrive`` on every service: re-publish what it emitted since a time.

For an operator after broker data loss the services notice themselves
(``servicekit.redrive``), or for any period: ``leadflow redrive --since <time>`` calls this
on every service. Admin role and every tenant (``*``): a redrive is not tenant-scoped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, Field

from servicekit.auth import Principal, Role, require
from servicekit.problems import ProblemError, invalid_field

router = APIRouter(tags=["ops"])
ADMIN = require(Role.admin)


class RedriveIn(BaseModel):
    since: AwareDatetime = Field(description="Re-publish what was emitted at or after this.")


class RedriveOut(BaseModel):
    service: str
    since: datetime
    republished: int


@router.post(
    "/v1/redrive",
    response_model=RedriveOut,
    summary="Re-publish every retained event emitted since a time",
    responses={
        403: {"description": "Needs an admin token for every tenant ('*')."},
        422: {"description": "'since' is missing, not a time with an offset, or too old."},
        503: {"description": "The broker or the database is unavailable (Retry-After)."},
    },
)
async def redrive(body: RedriveIn, request: Request, principal: Principal = ADMIN) -> RedriveOut:
    if not principal.all_tenants:
        raise ProblemError(
            403, "forbidden", "Forbidden", "A redrive concerns every tenant: it needs '*'."
        )
    runtime = request.app.state.runtime
    retention = timedelta(days=runtime.settings.outbox_retention_days)
    if body.since < datetime.now(UTC) - retention:
        raise invalid_field(
            "body.since",
            "older than the retention window",
            "Request failed validation",
            f"Records are retained for {runtime.settings.outbox_retention_days:g} days.",
        )
    count = await runtime.redrive.since(body.since, reason="operator")
    return RedriveOut(service=runtime.settings.service_name, since=body.since, republished=count)
