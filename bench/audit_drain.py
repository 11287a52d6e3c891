"""Audit-only throughput: pre-load ``sales.lead.created`` records and time their append.

``uv run --frozen python -m bench.audit_drain [--leads N] [--profile out.svg]``

Starts the embedded broker and PostgreSQL (or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``) and only the audit service, stops it,
publishes N ``sales.lead.created`` records (the leads of ``bench.scoring_drain``), starts
audit again and polls its event store until every one is appended (validated, normalized,
hash-chained, projected). Reports the rate between the first and the last row's
``recorded_at`` and the CPU per event of audit, the broker and PostgreSQL
(``bench.drain``). Audit appends under one advisory lock, so ``--replicas`` above 1 shows
contention rather than scale-out.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

import psycopg
from leadflow_contracts.topics import LEAD_CREATED
from leadflow_local.stack import Stack
from servicekit.db import libpq_url

from bench.drain import Drain, arguments, run_drain
from bench.scoring_drain import created


async def appended(
    stack: Stack, slug: str, count: int, timeout_s: float, on_first: Callable[[], None]
) -> list[float]:
    url = libpq_url(stack.service_env("audit")["DATABASE_URL"])
    deadline = time.monotonic() + timeout_s
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        stored = 0
        while stored < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {stored}/{count} appended after {timeout_s}s")
            await asyncio.sleep(0.2)
            row = await (
                await conn.execute("SELECT count(*) FROM events WHERE tenant_id = %s", (slug,))
            ).fetchone()
            if row and row[0] and not stored:
                on_first()
            stored = row[0] if row else 0
        rows = await (
            await conn.execute(
                "SELECT extract(epoch FROM recorded_at)::float8 FROM events "
                "WHERE tenant_id = %s ORDER BY position",
                (slug,),
            )
        ).fetchall()
    return [r[0] for r in rows]


AUDIT = Drain("audit", LEAD_CREATED, appended, created)


def main() -> int:
    return run_drain(AUDIT, arguments(__doc__))


if __name__ == "__main__":
    sys.exit(main())
