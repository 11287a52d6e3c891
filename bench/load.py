"""Load generation: pre-signed Standard Webhooks requests, sent with fixed concurrency or
at a fixed offered rate. Signing happens before the clock starts, so the load generator
(which shares the machine's two cores with the stack) stays cheap while measuring."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson


@dataclass(frozen=True)
class SignedRequest:
    webhook_id: str
    body: bytes
    headers: dict[str, str]


def sign_requests(secret: str, count: int, run: str) -> list[SignedRequest]:
    """``count`` valid generic-source webhooks (unique ids), signed with ``secret``.

    Timestamps are "now"; requests must be sent within the ingest tolerance (±300 s).
    """
    key = base64.b64decode(secret.removeprefix("whsec_"))
    now = str(int(time.time()))
    requests = []
    for i in range(count):
        webhook_id = f"bench-{run}-{i}"
        body = orjson.dumps(
            {
                "first_name": "Ada",
                "last_name": f"Bench{i}",
                "email": f"ada.{run}.{i}@bench-{i % 97}.example.com",
                "company": f"Bench {i % 97} GmbH",
                "title": "VP Sales",
                "company_size": 250,
                "country": "DE",
                "language": "de",
                "utm": {"source": "google", "medium": "cpc", "campaign": "bench"},
                "tags": ["bench"],
            }
        )
        signature = base64.b64encode(
            hmac.new(key, f"{webhook_id}.{now}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        requests.append(
            SignedRequest(
                webhook_id,
                body,
                {
                    "content-type": "application/json",
                    "webhook-id": webhook_id,
                    "webhook-timestamp": now,
                    "webhook-signature": f"v1,{signature}",
                },
            )
        )
    return requests


@dataclass
class LoadResult:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_s: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # webhook_id → wall clock
    lead_ids: dict[str, str] = field(default_factory=dict)  # webhook_id → lead_id
    started: float = 0.0
    finished: float = 0.0

    @property
    def accepted(self) -> int:
        return self.statuses.get(202, 0)

    @property
    def seconds(self) -> float:
        return self.finished - self.started


async def _send(
    session: aiohttp.ClientSession, url: str, request: SignedRequest, result: LoadResult
) -> None:
    result.sent_at[request.webhook_id] = time.time()
    started = time.perf_counter()
    try:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            payload = await response.read()
            status = response.status
    except aiohttp.ClientError:
        status = 0
        payload = b""
    result.latencies_s.append(time.perf_counter() - started)
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if status == 202:
        result.lead_ids[request.webhook_id] = orjson.loads(payload)["lead_id"]


async def closed_loop(
    url: str, requests: list[SignedRequest], concurrency: int, deadline_s: float | None = None
) -> LoadResult:
    """Send requests with ``concurrency`` in flight (maximum throughput) until all are
    sent or ``deadline_s`` has passed."""
    result = LoadResult()
    queue: asyncio.Queue[SignedRequest] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty() and (stop_at is None or time.perf_counter() < stop_at):
                await _send(session, url, queue.get_nowait(), result)

        result.started = time.perf_counter()
        stop_at = None if deadline_s is None else result.started + deadline_s
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.finished = time.perf_counter()
    result.sent = len(result.latencies_s)
    return result


async def open_loop(url: str, requests: list[SignedRequest], rate_per_s: float) -> LoadResult:
    """Send requests at a fixed offered rate, whatever the response times are."""
    result = LoadResult()
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks: list[asyncio.Task[None]] = []
        result.started = time.perf_counter()
        for i, request in enumerate(requests):
            due = result.started + i / rate_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_send(session, url, request, result)))
        await asyncio.gather(*tasks)
        result.finished = time.perf_counter()
    result.sent = len(requests)
    return result


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


def own_databases() -> dict[str, Any]:
    """``Stack`` options: this run's own databases, dropped when it stops. On a shared
    server (``DATABASE_URL``) a run must not find the previous run's outbox: facing a new,
    empty broker the services re-drive it (as they should), and the bench would measure
    that flood instead of its own load."""
    return {"database_prefix": f"leadflow_bench_{new_run_id()}_", "drop_databases": True}
