"""One lead to a ``Decision`` with its own reads: the timers (SLA reassignment, work-queue
retries and assignment) and ``route:preview`` (which reads without locking).

The ``lead.qualified`` consumer routes whole batches (``handlers.route_batch`` over
``domain.batch.BatchState``); both paths end in the same pure ``route_matched``, so a
preview equals what the pipeline decides for the same input and state."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from leadflow_contracts.lead import Lead
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_router.adapters.state import account_owner, load_rules, load_team
from leadflow_router.domain.model import Decision
from leadflow_router.domain.route import route_matched
from leadflow_router.domain.rules import RuleSet, match_team


async def decide(
    session: AsyncSession,
    lead: Lead,
    score: int,
    *,
    at: datetime,
    exclude: Collection[str] = (),
    lock: bool,
    draft: RuleSet | None = None,
) -> Decision:
    rules = draft if draft is not None else await load_rules(session, lead.tenant_id)
    match = match_team(lead, score, rules)
    team = None
    if match is not None:
        team = await load_team(session, lead.tenant_id, match.team_id, lock=lock)
    owner = await account_owner(session, lead.tenant_id, lead.email_domain)
    return route_matched(match, rules.version, team, at=at, account_owner=owner, exclude=exclude)
