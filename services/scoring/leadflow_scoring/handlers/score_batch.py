"""Scoring a batch of ``sales.lead.created`` events in one transaction.

Per batch, whatever its size (``servicekit.batch.BatchConsumer`` claims the event ids in
the inbox first and records the outputs after, so a redelivery re-emits them byte for
byte): one read of the current rule set of every tenant in the batch (the default stored
as version 1 for tenants that have none yet), each validated once; then every new lead
is scored in memory.

Equivalent to handling the events one by one in batch order, which the one-by-one
fallback of ``servicekit.batch`` relies on: scoring a lead changes no state another lead
reads, and the rule sets are those current when the batch's transaction read them, so a
PUT committed before that read applies to every lead of the batch and a later one to the
next batch (no cache, no restart). A rule set that cannot be loaded raises
``RuleSetUnavailable`` and fails the whole batch: it is retried, then its records are
handled one by one, so only the leads of that tenant are dead-lettered and nothing of
the failed attempts is committed (a replay after the fix scores them afresh).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadflow_contracts import Envelope, LeadCreated, LeadQualified, Producer
from leadflow_contracts.topics import LEAD_QUALIFIED, LEAD_SCORED
from servicekit.events import Outgoing, new_envelope
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_scoring.adapters import rule_store
from leadflow_scoring.domain.engine import score
from leadflow_scoring.domain.rules import RuleSet


@dataclass
class Handled:
    """What became of one new input event: ``outcome`` is ``qualified`` or
    ``not_qualified``."""

    outcome: str
    outputs: list[Outgoing] = field(default_factory=list)
    #: For a newly scored lead: its receipt at the webhook → scored, in seconds.
    waited_s: float | None = None


def outputs_for(
    envelope: Envelope[Any], rule_set: RuleSet, producer: Producer, at: datetime
) -> list[Outgoing]:
    """``lead.scored`` (always) and ``lead.qualified`` (score ≥ threshold), ids derived
    from the cause: ``uuid5(cause event_id, event_type)``."""
    created: LeadCreated = envelope.payload
    scored = score(created.lead, rule_set).to_event()
    outputs = [
        Outgoing.of(
            LEAD_SCORED,
            new_envelope(LEAD_SCORED, scored, producer=producer, cause=envelope, occurred_at=at),
        )
    ]
    if scored.qualified:
        qualified = LeadQualified(lead=created.lead, score=scored)
        outputs.append(
            Outgoing.of(
                LEAD_QUALIFIED,
                new_envelope(
                    LEAD_QUALIFIED, qualified, producer=producer, cause=envelope, occurred_at=at
                ),
            )
        )
    return outputs


async def score_batch(
    session: AsyncSession,
    fresh: Sequence[Envelope[Any]],
    producer: Producer,
    clock: Callable[[], datetime],
) -> dict[uuid.UUID, Handled]:
    """Score ``fresh`` (distinct event ids never handled before, in order) inside
    ``session``'s transaction (the inbox claim and outputs are ``BatchConsumer``'s)."""
    handled: dict[uuid.UUID, Handled] = {}
    versions = await rule_store.current_of(session, {e.payload.lead.tenant_id for e in fresh})
    rule_sets = {tenant: version.load() for tenant, version in versions.items()}
    for envelope in fresh:
        lead = envelope.payload.lead
        at = clock()
        outputs = outputs_for(envelope, rule_sets[lead.tenant_id], producer, at)
        qualified = len(outputs) > 1
        waited = (at - lead.received_at).total_seconds()
        outcome = "qualified" if qualified else "not_qualified"
        handled[envelope.event_id] = Handled(outcome, outputs, waited)
    return handled
