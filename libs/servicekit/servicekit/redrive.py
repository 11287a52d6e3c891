"""Re-drive: PostgreSQL is the source of truth, the broker a transport.

Every record a service emitted stays in its database for the retention window: the
outbox (admin changes, timers, ingest's ``lead.received``) and the outputs its consumers
stored with each input (``servicekit.inbox``). ``Redrive.since(t)`` re-publishes all of
them from ``t`` on; consumers drop what they already handled (inbox, deterministic
event ids), so a redrive can only fill gaps, never duplicate a lead, score or assignment.

``BrokerWatch`` runs it by itself when the broker lost data: the cluster id changed (a
new or wiped cluster — the embedded broker gets a fresh id on every start because it
keeps nothing) or a registry topic is missing. Each service records the broker
incarnations it has seen (``broker_epochs``); after a loss it waits until every topic is
back (the launcher or the topic-init job recreates them; producers never auto-create
them), then re-publishes everything it emitted since it first saw the lost incarnation.
An operator can do the same for any period: ``leadflow redrive --since <time>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.protocol.metadata import MetadataRequest
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.events import Outgoing
from servicekit.faults import describe, is_infrastructure_fault
from servicekit.inbox import inbox_table
from servicekit.kafka import EventPublisher, RawProducer
from servicekit.logging import get_logger
from servicekit.metrics import ServiceMetrics
from servicekit.outbox import outbox_table

log = get_logger(__name__)
metadata = MetaData()

epochs_table = Table(
    "broker_epochs",
    metadata,
    Column("cluster_id", String(200), nullable=False),
    Column("first_seen_at", DateTime(timezone=True), primary_key=True),
)

_CHUNK = 500


@dataclass(eq=False)
class Redrive:
    sessions: async_sessionmaker[AsyncSession]
    publisher: EventPublisher
    metrics: ServiceMetrics
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def since(self, since: datetime, *, reason: str = "operator") -> int:
        """Re-publish every retained record emitted at or after ``since``, oldest first
        per source; returns how many were acknowledged by the broker."""
        async with self._lock:
            count = 0
            for records in (self._outbox(since), self._outputs(since)):
                chunk: list[Outgoing] = []
                async for record in records:
                    chunk.append(record)
                    if len(chunk) >= _CHUNK:
                        count += await self.publisher.publish_pipelined(chunk)
                        chunk = []
                count += await self.publisher.publish_pipelined(chunk)
            self.metrics.redriven.labels(self.metrics.service, reason).inc(count)
            log.warning("redrive done", since=since.isoformat(), records=count, reason=reason)
            return count

    async def _outbox(self, since: datetime) -> AsyncIterator[Outgoing]:
        query = (
            select(outbox_table.c.record)
            .where(outbox_table.c.created_at >= since, outbox_table.c.parked_at.is_(None))
            .order_by(outbox_table.c.position)
        )
        async with self.sessions() as session:
            result = await session.stream(query.execution_options(yield_per=_CHUNK))
            async for row in result:
                yield Outgoing.from_json(row.record)

    async def _outputs(self, since: datetime) -> AsyncIterator[Outgoing]:
        query = (
            select(inbox_table.c.outputs)
            .where(inbox_table.c.processed_at >= since)
            .order_by(inbox_table.c.processed_at)
        )
        async with self.sessions() as session:
            result = await session.stream(query.execution_options(yield_per=_CHUNK))
            async for row in result:
                for output in row.outputs or ():
                    yield Outgoing.from_json(output)


class BrokerWatch:
    """Detects broker data loss and re-drives (see the module docstring)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: RawProducer,
        redrive: Redrive,
        topics: Sequence[str],
        health: Any,
        retention: timedelta,
    ) -> None:
        self._sessions = sessions
        self._producer = producer
        self._redrive = redrive
        self.topics = list(topics)
        self._health = health
        self._retention = retention
        self._lost_since: datetime | None = None
        # What this process emitted before its first look went to the same incarnation;
        # a minute's margin for the database's clock against ours.
        self._started_at = datetime.now(UTC) - timedelta(minutes=1)

    async def probe(self) -> tuple[str | None, list[str]]:
        """The broker's cluster id and the registry topics it does not have (asking
        never creates a topic)."""
        client = (await self._producer.started()).client
        node = client.get_random_node()
        response = await client.send(node, MetadataRequest(self.topics, False))
        missing = [name for code, name, *_ in response.topics if code != 0]
        return getattr(response, "cluster_id", None), missing

    async def check(self) -> int:
        """One look; returns how many records were re-driven (0 when nothing was lost)."""
        cluster_id, missing = await self.probe()
        epoch = await self._current_epoch()
        changed = epoch is not None and cluster_id is not None and epoch[0] != cluster_id
        if (missing or changed) and self._lost_since is None:
            self._lost_since = max(
                epoch[1] if epoch is not None else datetime.now(UTC),
                datetime.now(UTC) - self._retention,
            )
            log.error(
                "broker lost data; will re-drive once its topics are back",
                cluster_changed=changed,
                missing_topics=len(missing),
            )
        if missing:
            self._health.fault("broker topics", f"missing: {', '.join(sorted(missing)[:5])}")
            return 0
        self._health.clear("broker topics")
        if epoch is None:  # the first look ever
            await self._record_epoch(cluster_id or "unknown", self._started_at)
            return 0
        if self._lost_since is None:
            return 0
        count = await self._redrive.since(self._lost_since, reason="broker_data_loss")
        if changed:  # only now: a crash before this point re-drives again at start
            await self._record_epoch(cluster_id or "unknown")
        self._lost_since = None
        return count

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                level = log.debug if is_infrastructure_fault(exc) else log.warning
                level("broker watch could not look", reason=describe(exc), error=type(exc).__name__)
            await asyncio.sleep(interval_s)

    async def _current_epoch(self) -> tuple[str, datetime] | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(epochs_table.c.cluster_id, epochs_table.c.first_seen_at)
                    .order_by(epochs_table.c.first_seen_at.desc())
                    .limit(1)
                )
            ).first()
        return (row.cluster_id, row.first_seen_at) if row is not None else None

    async def _record_epoch(self, cluster_id: str, since: datetime | None = None) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                epochs_table.insert().values(
                    cluster_id=cluster_id, first_seen_at=since or func.now()
                )
            )
