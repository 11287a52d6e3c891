"""Scoring-only throughput: pre-load ``sales.lead.created`` records and time the drain.

``uv run --frozen python -m bench.scoring_drain [--leads N] [--replicas N] [--profile out.svg]``

Starts the embedded broker and PostgreSQL (or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``) and only the scoring service, stops it,
publishes N ``sales.lead.created`` records of one fresh tenant (scored with the shipped
default rule set, so every rule is evaluated; about half the leads qualify), starts
scoring again and measures the time from its restart until every lead's ``lead.scored``
is on the topic, the broker-time span from the first to the last of them and the CPU per
lead of every process (``bench.drain``). ``--replicas 2`` runs two scoring processes in
one consumer group (the topic's partitions split between them). With
``--profile`` a py-spy flame graph of the scoring process is recorded during the drain
(py-spy must be on PATH, e.g. ``uv run --with py-spy``).

Isolates the scoring stage from ingest and the router (the same idea as
``bench.router_drain``), so before/after figures of scoring are comparable on a shared
machine; the first figure includes consumer-group join time, the rate does not.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from leadflow_contracts import Envelope, LeadCreated, Producer, utcnow
from leadflow_contracts.lead import Lead
from leadflow_contracts.topics import LEAD_CREATED, LEAD_SCORED
from servicekit.events import new_envelope

from bench.drain import Drain, arguments, on_topic, run_drain

TITLES = ["CEO", "VP Sales", "Head of Marketing", "Engineer", "Intern", None]
EMAILS = ["corp{n}.example.com", "gmail.com", "bench-{n}.example.org"]


def created(slug: str, run: str, i: int) -> Envelope[Any]:
    """A varied lead (title band, company size, free vs corporate mail, tags, UTM)."""
    lead = Lead(
        lead_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{run}:{i}"),
        tenant_id=slug,
        source="generic" if i % 3 else "referral",
        received_at=utcnow(),
        first_name="Ada",
        last_name=f"Bench{i}",
        email=f"ada.{run}.{i}@" + EMAILS[i % 3].format(n=i % 97),
        company=f"Bench {i % 97} GmbH",
        title=TITLES[i % len(TITLES)],
        company_size=[5, 40, 300, 2500][i % 4],
        country=["DE", "US", "BR", "GB"][i % 4],
        language="de",
        tags=["demo-request"] if i % 2 else [],
        utm={"source": "google", "medium": "cpc"} if i % 5 == 0 else {},
    )
    return new_envelope(
        LEAD_CREATED,
        LeadCreated(lead=lead),
        producer=Producer(service="bench", version="0"),
        event_id=uuid.uuid5(lead.lead_id, "created"),
        tenant_id=slug,
        lead_id=lead.lead_id,
        correlation_id=f"bench-{run}-{i}",
    )


SCORING = Drain("scoring", LEAD_CREATED, on_topic(LEAD_SCORED.name), created)


def main() -> int:
    return run_drain(SCORING, arguments(__doc__))


if __name__ == "__main__":
    sys.exit(main())
