"""The insights' reads against real PostgreSQL: only the tenant's decisions in
[since, until) count, of the asked team or every team, and both reads use the same
window and filter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from leadflow_router.__main__ import MIGRATIONS
from leadflow_router.adapters import insights as stored
from leadflow_router.adapters.tables import assignments, work_items
from servicekit.db import create_engine, session_factory
from servicekit.migrations import upgrade

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=7)


def _decision(tenant: str, team: str, rep: str) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "lead_id": uuid.uuid4(),
        "team_id": team,
        "event_id": uuid.uuid4(),
        "correlation_id": "c",
        "lead": {},
        "score": 50,
        "candidates": [{"rep_id": rep, "eligible": True}],
        "rules_version": 1,
    }


def _assignment(tenant: str, team: str, at: datetime, rep: str) -> dict[str, Any]:
    return _decision(tenant, team, rep) | {
        "assignment_id": uuid.uuid4(),
        "sequence": 1,
        "rep_id": rep,
        "strategy": "round_robin",
        "status": "open",
        "decided_at": at,
    }


def _work_item(tenant: str, team: str, at: datetime, rep: str) -> dict[str, Any]:
    return _decision(tenant, team, rep) | {
        "item_id": uuid.uuid4(),
        "reason": "no_eligible_rep",
        "status": "waiting",
        "next_attempt_at": at,
        "created_at": at,
    }


async def test_only_the_window_tenant_and_team_are_read(database_url: str) -> None:
    upgrade(database_url, MIGRATIONS)
    # (tenant, team, when, rep): rep "in-*" rows are the only ones a read of acme/dach keeps.
    rows = [
        ("acme", "dach", SINCE, "in-first"),
        ("acme", "dach", UNTIL - timedelta(microseconds=1), "in-last"),
        ("acme", "dach", SINCE - timedelta(microseconds=1), "before"),
        ("acme", "dach", UNTIL, "at-until"),
        ("acme", "nordics", SINCE + timedelta(days=1), "other-team"),
        ("globex", "dach", SINCE + timedelta(days=1), "other-tenant"),
    ]
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(assignments.insert(), [_assignment(*r) for r in rows])
            await session.execute(work_items.insert(), [_work_item(*r) for r in rows])
        async with session_factory(engine)() as session:
            facts = await stored.assignment_facts(session, "acme", SINCE, UNTIL, "dach")
            failed = await stored.failed_candidates(session, "acme", SINCE, UNTIL, "dach")
            every_team = await stored.assignment_facts(session, "acme", SINCE, UNTIL, None)
            failed_any = await stored.failed_candidates(session, "acme", SINCE, UNTIL, None)
    finally:
        await engine.dispose()
    assert sorted(f.rep_id for f in facts) == ["in-first", "in-last"]
    assert sorted(c[0]["rep_id"] for c in failed) == ["in-first", "in-last"]
    assert sorted(f.rep_id for f in every_team) == ["in-first", "in-last", "other-team"]
    assert sorted(c[0]["rep_id"] for c in failed_any) == ["in-first", "in-last", "other-team"]
    assert {(f.team_id, f.status, f.sequence) for f in facts} == {("dach", "open", 1)}
