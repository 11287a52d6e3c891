"""What the chaos runner counts, read from outside the services' code paths.

* ``TopicWatcher`` reads ``lead.assigned`` and every dead-letter topic with
  confluent-kafka (librdkafka: a client the services do not use) from the first offset,
  from before the fault to the end, keeping what it saw in memory — so records the
  embedded broker loses when it is killed were still counted. It assigns itself every
  partition (no consumer group to join, nothing to wait for); after a broker restart
  its offsets are out of range and it starts again from the earliest. An assignment's
  time is its record's timestamp (set by the router's producer), not when we read it.
* ``ServiceData`` reads each service's own database: the router's assignments, the
  audit's events, the dlq's stored dead letters.
* ``ReadinessLog`` polls every ``/readyz`` and keeps when all were ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import orjson
import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from leadflow_contracts.topics import (
    LEAD_ASSIGNED,
    LEAD_CREATED,
    LEAD_QUALIFIED,
    LEAD_RECEIVED,
    LEAD_SCORED,
    REGISTRY,
)
from servicekit.db import with_database

ASSIGNED = LEAD_ASSIGNED.name
#: The audit's event types of one lead that went the whole way (qualified and assigned).
JOURNEY = tuple(
    spec.event_type
    for spec in (LEAD_RECEIVED, LEAD_CREATED, LEAD_SCORED, LEAD_QUALIFIED, LEAD_ASSIGNED)
)


class TopicWatcher:
    def __init__(self, bootstrap_servers: str, tenant: str) -> None:
        self.tenant = tenant
        self.assigned: dict[str, set[str]] = defaultdict(set)  # lead id → event ids
        self.assigned_at: dict[str, float] = {}  # lead id → first record's timestamp (s)
        self.dead_letters: set[tuple[str, str]] = set()  # (dlq topic, event id or offset)
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": f"chaos-watch-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "allow.auto.create.topics": False,
                "topic.metadata.refresh.interval.ms": 1000,
                "log_level": 2,  # not every refused connection while a broker is down
            }
        )
        topics = [ASSIGNED] + [spec.dlq for spec in REGISTRY]
        metadata = self._consumer.list_topics(timeout=10).topics
        self._consumer.assign(
            [
                TopicPartition(topic, partition, OFFSET_BEGINNING)
                for topic in topics
                for partition in metadata[topic].partitions
            ]
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-watch", daemon=True)

    def start(self) -> TopicWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for message in self._consumer.consume(num_messages=500, timeout=0.2):
                if message.error() is not None:  # e.g. offsets out of range after a restart
                    continue
                value = message.value() or b""
                if self.tenant.encode() not in value:
                    continue
                topic = str(message.topic())
                try:
                    envelope = orjson.loads(value)
                except orjson.JSONDecodeError:
                    self.dead_letters.add((topic, f"offset:{message.offset()}"))
                    continue
                if topic == ASSIGNED:
                    lead = str(envelope["lead_id"])
                    self.assigned[lead].add(str(envelope["event_id"]))
                    self.assigned_at.setdefault(lead, message.timestamp()[1] / 1000)
                else:
                    self.dead_letters.add((topic, str(envelope.get("event_id"))))


@dataclass
class ServiceData:
    """Counts from the services' own databases for one tenant."""

    assignments: dict[str, int] = field(default_factory=dict)  # lead id → assignment rows
    audit: dict[str, dict[str, int]] = field(default_factory=dict)  # lead → type → count
    dead_letters: int = 0
    #: (dead-letter topic, exception class, how many) as the dlq service stored them.
    dead_letter_kinds: list[tuple[str, str, int]] = field(default_factory=list)

    @classmethod
    def read(cls, server_url: str, tenant: str) -> ServiceData:
        data = cls()
        with psycopg.connect(with_database(server_url, "leadflow_router")) as db:
            rows = db.execute(
                "SELECT lead_id::text, count(*) FROM assignments WHERE tenant = %s"
                " GROUP BY lead_id",
                (tenant,),
            )
            data.assignments = {lead: int(n) for lead, n in rows}
        with psycopg.connect(with_database(server_url, "leadflow_audit")) as db:
            rows = db.execute(
                "SELECT lead_id::text, event_type, count(*) FROM events WHERE tenant_id = %s"
                " AND lead_id IS NOT NULL GROUP BY lead_id, event_type",
                (tenant,),
            )
            for lead, event_type, n in rows:
                data.audit.setdefault(lead, {})[event_type] = int(n)
        with psycopg.connect(with_database(server_url, "leadflow_dlq")) as db:
            row = db.execute(
                "SELECT count(DISTINCT (dlq_topic, coalesce(event_id::text, id::text)))"
                " FROM dead_letters WHERE tenant_id = %s",
                (tenant,),
            ).fetchone()
            data.dead_letters = int(row[0]) if row else 0
            kinds = db.execute(
                "SELECT dlq_topic, coalesce(exception_class, '?'), count(*) FROM dead_letters"
                " WHERE tenant_id = %s GROUP BY 1, 2 ORDER BY 3 DESC",
                (tenant,),
            )
            data.dead_letter_kinds = [(topic, kind, int(n)) for topic, kind, n in kinds]
        return data


class ReadinessLog:
    """Every ``interval_s``: were all services ready? Kept as (wall clock, not ready)."""

    def __init__(
        self, urls: dict[str, str], interval_s: float = 0.5, timeout_s: float = 3.0
    ) -> None:
        self.urls = urls
        self.interval_s = interval_s
        self.timeout_s = timeout_s  # generous: on a busy machine a 1 s probe flaps
        self.samples: list[tuple[float, list[str]]] = []
        self._sampled = asyncio.Condition()

    async def run(self, until: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s) as http:
            while not until.is_set():
                checks = await asyncio.gather(*(self._ready(http, u) for u in self.urls.values()))
                down = [name for name, ok in zip(self.urls, checks, strict=True) if not ok]
                self.samples.append((time.time(), down))
                async with self._sampled:
                    self._sampled.notify_all()
                await asyncio.sleep(self.interval_s)

    @staticmethod
    async def _ready(http: httpx.AsyncClient, url: str) -> bool:
        try:
            return (await http.get(f"{url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    async def wait_all_ready(self, after: float, timeout_s: float) -> None:
        """Until a sample after ``after`` found every service ready (or the timeout)."""

        async def all_ready() -> None:
            async with self._sampled:
                await self._sampled.wait_for(lambda: self.first_all_ready(after) is not None)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_ready(), timeout_s)

    def first_all_ready(self, after: float) -> float | None:
        return next((t for t, down in self.samples if t >= after and not down), None)

    def transitions(self, since: float) -> list[tuple[float, list[str]]]:
        """(seconds after ``since``, services not ready) each time that set changed."""
        changes: list[tuple[float, list[str]]] = []
        for t, down in self.samples:
            if not changes or changes[-1][1] != down:
                changes.append((round(t - since, 1), down))
        return changes

    def not_ready_seen(self) -> list[str]:
        return sorted({name for _, down in self.samples for name in down})
