"""Every domain topic and its dead-letter topic, read from the beginning."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from servicekit.testing.helpers import TopicReader, eventually

from tests.e2e.support.deployment import PIPELINE_TIMEOUT_S


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: dict[str, Any] | None  # the envelope; None if the value is not JSON

    @property
    def payload(self) -> dict[str, Any]:
        assert self.value is not None
        payload: dict[str, Any] = self.value["payload"]
        return payload


class Bus:
    """Every domain topic (and its ``.dlq``) read from the beginning, filtered on demand."""

    def __init__(self, reader: TopicReader) -> None:
        self._reader = reader
        self._parsed: list[Message] = []

    async def _poll(self) -> list[Message]:
        records = await self._reader.poll()
        for record in records[len(self._parsed) :]:
            try:
                value = orjson.loads(record.value) if record.value else None
            except orjson.JSONDecodeError:
                value = None
            self._parsed.append(
                Message(
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key.decode() if record.key else None,
                    headers={k: v.decode(errors="replace") for k, v in record.headers or ()},
                    value=value if isinstance(value, dict) else None,
                )
            )
        return self._parsed

    def select(
        self, topic: str, *, lead_id: uuid.UUID | None = None, tenant: str | None = None
    ) -> list[Message]:
        return [
            m
            for m in self._parsed
            if m.topic == topic
            and m.value is not None
            and (lead_id is None or m.value.get("lead_id") == str(lead_id))
            and (tenant is None or m.value.get("tenant_id") == tenant)
        ]

    async def wait(
        self,
        topic: str,
        *,
        lead_id: uuid.UUID | None = None,
        tenant: str | None = None,
        count: int = 1,
        distinct: bool = True,
        timeout_s: float = PIPELINE_TIMEOUT_S,
    ) -> list[Message]:
        """At least ``count`` records of ``topic`` for that lead/tenant — counting distinct
        event ids, or every record (redeliveries and replays too) with ``distinct=False``."""

        async def probe() -> list[Message] | None:
            await self._poll()
            found = self.select(topic, lead_id=lead_id, tenant=tenant)
            seen = len({m.value["event_id"] for m in found if m.value}) if distinct else len(found)
            return found if seen >= count else None

        what = f"{count} x {topic} (lead {lead_id}, tenant {tenant})"
        found: list[Message] = await eventually(probe, timeout_s=timeout_s, what=what)
        return found

    async def settle(self, quiet_s: float = 1.5) -> None:
        """Read until nothing new arrived for ``quiet_s`` (to prove something did NOT come)."""
        await self._reader.drain(quiet_s)
        await self._poll()
