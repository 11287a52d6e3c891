"""Accepting verified, valid webhooks: replay guard → rate/quota → publish → commit,
for a group of concurrent webhooks at a time (group commit).

Delivery contract (why this order):

* The replay-guard row (tenant, webhook-id) is inserted first, inside a transaction
  that stays open until the broker acknowledged ``lead.received`` (acks=all). Only
  then is it committed and 202 returned — so a 202 always means the record is durable.
* Webhooks that arrive while earlier ones are being accepted wait in a queue; each
  free slot (``groups_in_flight``) takes what is queued (``group_max`` at most) as one
  group: one pooled connection, one database round trip for every guard and
  reservation, one produce batch, one commit. A lone webhook is a group of one at
  once, so grouping adds no wait; under load it spares most round trips.
* The whole acceptance — the queue, a pooled connection, the guard, the broker's ack,
  the commit — has ``ack_timeout_s`` from the request's arrival; past it the group's
  transaction rolls back (its webhook-ids are free again) and its requests get 503:
  their retries will be accepted. Should a timed-out record reach the topic later
  anyway, the retry republishes it with the same deterministic ``event_id`` and
  consumers dedupe it. A record the broker refuses fails only its own request: its
  guard row is dropped before the others commit.
* The ``lead.received`` record commits with the guard row (retained in the outbox), so
  a broker that loses its data after the 202 loses nothing: a redrive re-publishes it.
* A concurrent request with the same webhook-id blocks on the row until the first one
  commits (→ 200 duplicate) or rolls back (→ it proceeds itself); one group never holds
  the same webhook-id twice (the second waits for the next group).
* Known duplicates are answered before any counting; the rate/quota reservation (one
  server-side call together with that lookup, in a short transaction committed before
  the guard rows are taken, so the hot counter rows are never locked across the
  publish) is given back when the request fails or loses the race to an identical one,
  so only accepted webhooks count (``adapters.webhook_ledger``: two round trips per
  group, no ORM).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadflow_contracts import LeadReceived, Producer, lead_id_for, received_event_id
from leadflow_contracts.topics import LEAD_RECEIVED
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from servicekit.events import Outgoing, new_envelope
from servicekit.faults import describe
from servicekit.kafka import EventPublisher
from servicekit.logging import error_text, get_logger

from leadflow_ingest.adapters.webhook_ledger import (
    ClaimRequest,
    ReservationUncertain,
    WebhookLedger,
)
from leadflow_ingest.adapters.webhook_store import UsageCounters
from leadflow_ingest.domain.quota import Windows, windows
from leadflow_ingest.domain.tenancy import TenantConfig

log = get_logger(__name__)


@dataclass(frozen=True)
class Accepted:
    lead_id: uuid.UUID
    duplicate: bool


class DependencyUnavailable(Exception):
    """A dependency of the acceptance failed — the database (replay guard, counters,
    commit) or the broker (no acknowledgement in time, a refused record); ``reason``
    says which where it is known. Nothing was accepted; the sender should retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(Exception):
    def __init__(self, window: str, retry_after_s: int) -> None:
        super().__init__(window)
        self.window = window  # "rate" or "quota"
        self.retry_after_s = retry_after_s


@dataclass(eq=False)
class _Pending:
    """A webhook waiting in the queue or in a group, and its caller's answer."""

    request: ClaimRequest
    outgoing: Outgoing
    parent: Context  # the request's trace, for the publish span
    deadline: float  # loop time
    answer: asyncio.Future[Accepted]

    def give(self, accepted: Accepted) -> None:
        if not self.answer.done():  # the caller may have gone away
            self.answer.set_result(accepted)

    def fail(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


@dataclass(eq=False)
class WebhookAcceptor:
    """Accepts webhooks in groups (module docstring); ``on_group`` sees each group's size."""

    ledger: WebhookLedger
    publisher: EventPublisher
    usage: UsageCounters
    producer: Producer
    ack_timeout_s: float
    group_max: int = 64
    groups_in_flight: int = 4
    on_group: Callable[[int], None] = lambda size: None
    _queue: deque[_Pending] = field(default_factory=deque, init=False)
    _in_flight: int = field(default=0, init=False)
    _groups: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def accept(
        self,
        tenant: TenantConfig,
        source: str,
        webhook_id: str,
        body: dict[str, Any],
        received_at: datetime,
    ) -> Accepted:
        lead_id = lead_id_for(tenant.slug, source, webhook_id)
        envelope = new_envelope(
            LEAD_RECEIVED,
            LeadReceived(
                source=source,
                webhook_id=webhook_id,
                received_at=received_at,
                body=body,
                sla_minutes=tenant.tier.sla_minutes,
            ),
            producer=self.producer,
            event_id=received_event_id(lead_id),
            tenant_id=tenant.slug,
            lead_id=lead_id,
            correlation_id=webhook_id,
            occurred_at=received_at,
        )
        loop = asyncio.get_running_loop()
        pending = _Pending(
            ClaimRequest(
                tenant=tenant.slug,
                webhook_id=webhook_id,
                source=source,
                lead_id=lead_id,
                now=received_at,
                windows=windows(received_at),
                per_minute=tenant.tier.rate_per_minute,
                per_month=tenant.tier.monthly_quota,
            ),
            Outgoing.of(LEAD_RECEIVED, envelope),
            otel_context.get_current(),
            loop.time() + self.ack_timeout_s,
            loop.create_future(),
        )
        self._queue.append(pending)
        self._start_groups()
        return await pending.answer

    def _start_groups(self) -> None:
        while self._queue and self._in_flight < self.groups_in_flight:
            group = self._take()
            if not group:
                return
            self._in_flight += 1
            task = asyncio.ensure_future(self._run(group))
            self._groups.add(task)
            task.add_done_callback(self._groups.discard)

    def _take(self) -> list[_Pending]:
        """The next group from the queue: distinct webhook-ids, in lock order."""
        now = asyncio.get_running_loop().time()
        taken: dict[tuple[str, str], _Pending] = {}
        later: list[_Pending] = []
        while self._queue and len(taken) < self.group_max:
            pending = self._queue.popleft()
            if pending.answer.done():  # its caller went away: nothing to accept
                continue
            if pending.deadline <= now:
                pending.fail(DependencyUnavailable("not acknowledged in time"))
            elif pending.request.key in taken:
                later.append(pending)
            else:
                taken[pending.request.key] = pending
        self._queue.extendleft(reversed(later))
        return sorted(taken.values(), key=lambda p: p.request.key)

    async def _run(self, group: list[_Pending]) -> None:
        try:
            self.on_group(len(group))
            await self._accept(group)
        finally:
            for pending in group:  # never a caller left waiting
                pending.fail(DependencyUnavailable("not accepted"))
            self._in_flight -= 1
            self._start_groups()

    async def _accept(self, group: list[_Pending]) -> None:
        counted: list[_Pending] = []  # given back unless accepted
        accepted: list[_Pending] = []
        refused: list[tuple[_Pending, BaseException]] = []
        deadline = min(p.deadline for p in group)
        try:
            async with asyncio.timeout_at(deadline), self.ledger.connection() as db:
                try:
                    claims = await db.claim([p.request for p in group])
                except asyncio.CancelledError:
                    raise
                except ReservationUncertain as exc:
                    keys = {r.key for r in exc.counted}
                    counted = [p for p in group if p.request.key in keys]
                    log.warning("replay guard failed", error=type(exc.__cause__).__name__)
                    raise DependencyUnavailable("database unavailable") from exc
                except Exception as exc:  # e.g. a pooled connection the database dropped
                    log.warning("replay guard or reservation failed", error=type(exc).__name__)
                    raise DependencyUnavailable("database unavailable") from exc
                holding: list[_Pending] = []
                drop: list[ClaimRequest] = []
                for pending, claim in zip(group, claims, strict=True):
                    if claim.uncount:
                        counted.append(pending)
                    if claim.known is not None:
                        pending.give(Accepted(claim.known, duplicate=True))
                    elif claim.exhausted is not None:
                        drop.append(pending.request)
                        pending.fail(_limited(claim.exhausted, pending.request.windows))
                    else:
                        holding.append(pending)
                counted += holding
                outcomes = await self.publisher.publish_each(
                    [(p.outgoing, p.parent) for p in holding]
                )
                for pending, error in zip(holding, outcomes, strict=True):
                    if error is None:
                        accepted.append(pending)
                    else:
                        drop.append(pending.request)
                        refused.append((pending, error))
                retain = [(p.outgoing.to_json(), p.request.now) for p in accepted]
                await db.finish(drop, retain)
        except DependencyUnavailable as exc:
            await self._fail(group, counted, exc)
            return
        except TimeoutError:
            log.warning("webhooks not made durable in time", timeout_s=self.ack_timeout_s)
            await self._fail(group, counted, DependencyUnavailable("not acknowledged in time"))
            return
        except asyncio.CancelledError:
            await self._fail(group, counted, DependencyUnavailable("shutting down"))
            raise
        except Exception as exc:
            # E.g. the commit failed after the ack (the records are on the topic but the
            # guard rows are not; the callers' retries republish the same event_ids).
            log.error("accepting webhooks failed", error=error_text(exc))
            await self._fail(group, counted, DependencyUnavailable(describe(exc)))
            return
        for pending in accepted:
            pending.give(Accepted(pending.request.lead_id, duplicate=False))
        for pending, error in refused:
            log.error("the broker refused a webhook", error=error_text(error))
            pending.fail(DependencyUnavailable(describe(error)))
        given_back = [p for p in counted if p not in accepted]
        await asyncio.gather(*(self._release(p.request) for p in given_back))

    async def _fail(
        self, group: list[_Pending], counted: list[_Pending], exc: DependencyUnavailable
    ) -> None:
        for pending in group:
            pending.fail(exc)
        await asyncio.gather(*(self._release(p.request) for p in counted))

    async def _release(self, request: ClaimRequest) -> None:
        """Best effort on a fresh connection: the one that failed may be unusable."""
        try:
            await self.usage.release(request.tenant, request.windows)
        except Exception as exc:
            log.error("could not release a reservation", error=type(exc).__name__)


def _limited(window: str, at: Windows) -> RateLimited:
    retry = at.seconds_to_next_minute if window == "rate" else at.seconds_to_next_month
    return RateLimited(window, retry)
