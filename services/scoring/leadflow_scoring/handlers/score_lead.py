"""The scoring consumer: ``sales.lead.created`` → ``lead.scored`` (+ ``lead.qualified``).

Idempotent under redelivery: the inbox (keyed by the input's ``event_id``) stores the
outputs with the input's handling, so a redelivered or replayed input re-publishes the
very same records (ids derived from the cause: ``uuid5(cause, event_type)``).
The tenant's current rule set is read inside that transaction on every lead, so a PUT
applies to the next lead without a restart. A rule set that cannot be loaded raises
``RuleSetUnavailable``: retried with backoff, then ``sales.lead.created.dlq``; nothing
of the failed attempts is committed, so a replay after the fix scores the lead afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts import Envelope, LeadCreated, LeadQualified, Producer
from leadflow_contracts.topics import LEAD_CREATED, LEAD_QUALIFIED, LEAD_SCORED
from servicekit.consumer import Delivery
from servicekit.errors import InvalidMessage
from servicekit.events import Outgoing, new_envelope
from servicekit.inbox import Inbox
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_scoring.adapters import rule_store
from leadflow_scoring.domain.engine import score
from leadflow_scoring.metrics import ScoringMetrics


@dataclass
class ScoreLead:
    inbox: Inbox
    producer: Producer
    metrics: ScoringMetrics
    clock: Callable[[], datetime]

    async def __call__(self, envelope: Envelope[Any], delivery: Delivery) -> None:
        created: LeadCreated = envelope.payload
        lead = created.lead
        if envelope.lead_id != lead.lead_id or envelope.tenant_id != lead.tenant_id:
            raise InvalidMessage("the envelope's lead_id/tenant_id differ from the lead's")

        async def apply(session: AsyncSession) -> list[Outgoing]:
            stored = await rule_store.latest(session, lead.tenant_id)
            if stored is None:
                stored = await rule_store.materialize_default(session, lead.tenant_id)
            result = score(lead, stored.load())
            scored = result.to_event()
            outputs = [
                Outgoing.of(
                    LEAD_SCORED,
                    new_envelope(LEAD_SCORED, scored, producer=self.producer, cause=envelope),
                )
            ]
            if scored.qualified:
                qualified = LeadQualified(lead=lead, score=scored)
                outputs.append(
                    Outgoing.of(
                        LEAD_QUALIFIED,
                        new_envelope(
                            LEAD_QUALIFIED, qualified, producer=self.producer, cause=envelope
                        ),
                    )
                )
            return outputs

        handled = await self.inbox.handle(envelope.event_id, LEAD_CREATED.name, apply)
        if handled.duplicate:
            return
        qualified = any(
            o.value.get("event_type") == LEAD_QUALIFIED.event_type for o in handled.outputs
        )
        self.metrics.scored(
            qualified=qualified, seconds=(self.clock() - lead.received_at).total_seconds()
        )
