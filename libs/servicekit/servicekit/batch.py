"""Envelope consumers with one database transaction per batch (``ConsumerEngine``).

``BatchConsumer`` is the engine for one envelope topic whose batch function takes the
batch's transaction: ``handle(session, envelopes) -> {event_id: Handled}`` gets every
valid, distinct envelope of the batch. Handlers claim their inputs with
``servicekit.inbox.claim_batch`` and record outputs with ``store_outputs`` in the
transaction they are given, and must decide a batch exactly as one-by-one handling in
batch order would (the engine's one-by-one fallback relies on it). Delivery, fault and
tracing rules are the engine's (``servicekit.engine``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import ConsumerRecord
from leadflow_contracts import Envelope, TopicSpec
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.consumer import parse_envelope
from servicekit.engine import ConsumerEngine, H, Item
from servicekit.runtime import Runtime

#: ``handle(session, envelopes) -> {event_id: Handled}`` inside the batch's transaction.
BatchHandler = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[Mapping[uuid.UUID, H]]]
BatchItem = Item[Envelope[Any]]


class BatchConsumer(ConsumerEngine[Envelope[Any], H]):
    """One envelope topic, one consumer group, one transaction per batch.

    ``parse`` turns a record into an envelope or raises ``InvalidMessage`` (default: the
    topic's envelope model); ``observe`` runs once per handled record (service metrics).
    """

    def __init__(
        self,
        runtime: Runtime,
        spec: TopicSpec,
        group: str,
        handle: BatchHandler[H],
        *,
        parse: Callable[[ConsumerRecord[Any, Any]], Envelope[Any]] | None = None,
        observe: Callable[[BatchItem, H], None] | None = None,
    ) -> None:
        async def in_transaction(envelopes: list[Envelope[Any]]) -> Mapping[Any, H]:
            async with runtime.sessions() as session, session.begin():
                return await handle(session, envelopes)

        super().__init__(
            runtime,
            [spec.name],
            group,
            in_transaction,
            parse=parse or (lambda record: parse_envelope(spec, record.value)),
            observe=observe,
            log_context=lambda e: {
                "correlation_id": e.correlation_id,
                "tenant_id": e.tenant_id,
                "lead_id": e.lead_id,
            },
        )
