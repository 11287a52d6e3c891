"""A webhook sender that behaves like a real upstream system under faults.

Webhooks go out at a fixed offered rate. One that gets a 503 (honouring Retry-After), a
connection error or a timeout is sent again with the same ``webhook-id`` and body,
signed afresh (a new ``webhook-timestamp``), as Standard Webhooks senders do; ingest
answers a repeat of an accepted id with 200 and the original ``lead_id``. Every other
answer (2xx, 4xx, a plain 500) is final. Each webhook is counted once, by its final
answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import orjson
from standardwebhooks.webhooks import Webhook

RETRY_STATUSES = frozenset({502, 503, 504})
#: A sender gives a webhook this long (from its first attempt) before it gives up.
GIVE_UP_AFTER_S = 240.0
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Lead:
    webhook_id: str
    body: bytes


def leads(run: str, count: int) -> list[Lead]:
    """``count`` valid generic-source leads with unique webhook ids and emails."""
    return [
        Lead(
            f"chaos-{run}-{i}",
            orjson.dumps(
                {
                    "first_name": "Ada",
                    "last_name": f"Chaos{i}",
                    "email": f"ada.{run}.{i}@chaos-{i % 97}.example.com",
                    "company": f"Chaos {i % 97} GmbH",
                    "title": "VP Sales",
                    "company_size": 250,
                    "country": "DE",
                }
            ),
        )
        for i in range(count)
    ]


def _signed(webhook: Webhook, lead: Lead) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": lead.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook.sign(lead.webhook_id, now, lead.body.decode()),
    }


@dataclass
class Outcome:
    webhook_id: str
    first_sent: float  # wall clock
    attempts: int = 0
    final_status: int | None = None  # None: gave up (only errors or retryable answers)
    lead_id: str | None = None
    answered_at: float | None = None

    @property
    def accepted(self) -> bool:
        return self.final_status in (200, 202) and self.lead_id is not None


@dataclass
class SendLog:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    #: Every answer of every attempt (0 = connection error or timeout).
    answers: Counter[int] = field(default_factory=Counter)
    in_flight: int = 0
    #: Set while at least one request is in flight (a fault can wait for it).
    busy: asyncio.Event = field(default_factory=asyncio.Event)

    def accepted(self) -> dict[str, Outcome]:
        return {o.lead_id: o for o in self.outcomes.values() if o.accepted and o.lead_id}


def _retry_after(headers: Mapping[str, str] | None, attempt: int) -> float:
    try:
        return min(10.0, max(0.2, float((headers or {})["Retry-After"])))
    except (KeyError, ValueError):
        return float(min(8.0, 0.5 * 2 ** (attempt - 1)))


async def _deliver(
    session: aiohttp.ClientSession, url: str, webhook: Webhook, lead: Lead, log: SendLog
) -> None:
    outcome = Outcome(lead.webhook_id, time.time())
    log.outcomes[lead.webhook_id] = outcome
    while time.time() - outcome.first_sent < GIVE_UP_AFTER_S:
        outcome.attempts += 1
        log.in_flight += 1
        log.busy.set()
        try:
            headers = _signed(webhook, lead)
            async with session.post(url, data=lead.body, headers=headers) as answer:
                status, body, answered = answer.status, await answer.read(), answer.headers
        except (aiohttp.ClientError, TimeoutError):
            status, body, answered = 0, b"", None
        finally:
            log.in_flight -= 1
            if log.in_flight == 0:
                log.busy.clear()
        log.answers[status] += 1
        if status != 0 and status not in RETRY_STATUSES:
            outcome.final_status = status
            outcome.answered_at = time.time()
            if status in (200, 202):
                outcome.lead_id = orjson.loads(body)["lead_id"]
            return
        await asyncio.sleep(_retry_after(answered, outcome.attempts))


async def send_at_rate(
    url: str, secret: str, batch: list[Lead], rate_per_s: float, log: SendLog
) -> None:
    """Send ``batch`` at ``rate_per_s`` (whatever the answers), each until final."""
    webhook = Webhook(secret)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=1024)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        for i, lead in enumerate(batch):
            delay = started + i / rate_per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_deliver(session, url, webhook, lead, log)))
        await asyncio.gather(*tasks)
