"""Envelope consumers with the inbox and one database transaction per batch.

``BatchConsumer`` is the ``ConsumerEngine`` for one envelope topic whose service hands it
a batch function ``decide(session, envelopes) -> {event_id: Handled}``. In the batch's
transaction the engine first claims every event id in the inbox (``servicekit.inbox``):
``decide`` gets only the envelopes never handled before, in batch order, and their
outputs are recorded with the state change; an id handled before decides nothing again —
its stored outputs are re-published as they were (outcome ``"duplicate"``). ``decide``
must decide a batch exactly as one-by-one handling in batch order would (the engine's
one-by-one fallback relies on it). Delivery, fault and tracing rules are the engine's
(``servicekit.engine``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, cast

from aiokafka import ConsumerRecord
from leadflow_contracts import Envelope, TopicSpec
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.consumer import parse_envelope
from servicekit.engine import ConsumerEngine, Done, H, Handled, Item
from servicekit.inbox import claim_batch, store_outputs
from servicekit.runtime import Runtime
from servicekit.settings import BatchConsumerSettings

#: ``decide(session, fresh envelopes) -> {event_id: Handled}`` inside the batch's transaction.
BatchHandler = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[Mapping[uuid.UUID, H]]]
BatchItem = Item[Envelope[Any]]
#: The outcome of an input handled before (decide() never returns it).
REPLAYED = "duplicate"


class BatchConsumer(ConsumerEngine[Envelope[Any], Handled], Generic[H]):
    """One envelope topic, one consumer group, the inbox, one transaction per batch.

    ``parse`` turns a record into an envelope or raises ``InvalidMessage`` (default: the
    topic's envelope model); ``observe`` runs once per newly decided record (service
    metrics), not for inbox replays.
    """

    def __init__(
        self,
        runtime: Runtime,
        spec: TopicSpec,
        group: str,
        decide: BatchHandler[H],
        *,
        parse: Callable[[ConsumerRecord[Any, Any]], Envelope[Any]] | None = None,
        observe: Callable[[BatchItem, H], None] | None = None,
    ) -> None:
        async def in_transaction(envelopes: list[Envelope[Any]]) -> Mapping[Any, Handled]:
            async with runtime.sessions() as session, session.begin():
                claimed = await claim_batch(session, group, spec.name, envelopes)
                # Inputs the inbox had seen: their stored outputs, re-published unchanged.
                handled: dict[uuid.UUID, Handled] = {
                    event_id: Done(REPLAYED, outputs) for event_id, outputs in claimed.seen.items()
                }
                if claimed.fresh:
                    decided = await decide(session, claimed.fresh)
                    await store_outputs(session, group, {e: d.outputs for e, d in decided.items()})
                    handled.update(decided)
                return handled

        def observe_decided(item: BatchItem, done: Handled) -> None:
            if observe is not None and done.outcome != REPLAYED:
                observe(item, cast(H, done))

        super().__init__(
            runtime,
            [spec.name],
            group,
            in_transaction,
            parse=parse or (lambda record: parse_envelope(spec, record.value)),
            observe=observe_decided,
            log_context=lambda e: {
                "correlation_id": e.correlation_id,
                "tenant_id": e.tenant_id,
                "lead_id": e.lead_id,
            },
        )

    def subscribe(self, settings: BatchConsumerSettings) -> None:
        """Subscribe (before ``runtime.start``) with the service's batch settings."""
        self.register(max_records=settings.batch_max_records, timeout_ms=settings.batch_timeout_ms)
