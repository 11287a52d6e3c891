"""Router-only throughput: pre-load ``lead.qualified`` records and time the drain.

``uv run --frozen python -m bench.router_drain [--leads N] [--replicas N] [--profile out.svg]``

Starts the embedded broker and PostgreSQL (or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``) and only the router service, provisions a
tenant through the router's admin API (the same team shape as ``make bench``: one
least-loaded team of 8 reps without practical capacity limits), stops the router, publishes
N ``lead.qualified`` records, starts the router again and measures the time from its
restart until every lead's ``lead.assigned`` is on the topic, with the CPU per lead of
every process (``bench.drain``); ``--replicas 2`` runs two router processes in one consumer
group. With ``--profile`` a py-spy flame graph of the (first) router process is recorded
during the drain (py-spy must be on PATH, e.g. ``uv run --with py-spy``). The peak RSS
reported is the worst case for memory, a consumer meeting a full backlog.

Isolates the router stage from ingest and scoring, so before/after figures of the router
are comparable on a shared machine; the figure includes consumer-group join time.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import httpx
from leadflow_contracts import Envelope, LeadQualified, LeadScored, Producer, utcnow
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import LEAD_ASSIGNED, LEAD_QUALIFIED
from leadflow_local.stack import Stack
from servicekit.auth import mint_token
from servicekit.events import new_envelope

from bench.drain import Drain, arguments, on_topic, run_drain
from bench.provision import provision_router


def qualified(slug: str, run: str, i: int) -> Envelope[Any]:
    lead = Lead(
        lead_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{run}:{i}"),
        tenant_id=slug,
        source="generic",
        received_at=utcnow(),
        first_name="Ada",
        last_name=f"Bench{i}",
        email=f"ada.{run}.{i}@bench-{i % 97}.example.com",
        company=f"Bench {i % 97} GmbH",
        country="DE",
        language="de",
    )
    score = LeadScored(
        score=80, fit=80, engagement=80, threshold=0, qualified=True, reasons=[], rules_version=1
    )
    return new_envelope(
        LEAD_QUALIFIED,
        LeadQualified(lead=lead, score=score),
        producer=Producer(service="bench", version="0"),
        event_id=uuid.uuid5(lead.lead_id, "qualified"),
        tenant_id=slug,
        lead_id=lead.lead_id,
        correlation_id=f"bench-{run}-{i}",
    )


def provision(stack: Stack, slug: str) -> None:
    token = mint_token(stack.jwt_secret, sub="bench", role="admin", tenants=["*"])
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        provision_router(http, stack.url("router"), slug)


ROUTER = Drain("router", LEAD_QUALIFIED, on_topic(LEAD_ASSIGNED.name), qualified, provision)


def main() -> int:
    return run_drain(ROUTER, arguments(__doc__))


if __name__ == "__main__":
    sys.exit(main())
