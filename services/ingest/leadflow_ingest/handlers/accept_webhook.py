"""Accepting a verified, valid webhook: replay guard → rate/quota → publish → commit.

Delivery contract (why this order):

* The replay-guard row (tenant, webhook-id) is inserted first, inside a transaction
  that stays open until the broker acknowledged ``lead.received`` (acks=all). Only
  then is it committed and 202 returned — so a 202 always means the record is durable.
* The whole acceptance — a pooled connection, the guard, the broker's ack, the commit —
  has ``ack_timeout_s``; past it the transaction rolls back (the webhook-id is free
  again) and the caller gets 503: its retry will be accepted. (A deadline on the ack
  alone let requests that queued for a connection during a broker stall answer 202
  seconds after it.) Should the timed-out record reach the topic later anyway, the
  retry republishes it with the same deterministic ``event_id`` and consumers dedupe it.
* The ``lead.received`` record commits with the guard row (retained in the outbox), so
  a broker that loses its data after the 202 loses nothing: a redrive re-publishes it.
* A concurrent request with the same webhook-id blocks on the row until the first one
  commits (→ 200 duplicate) or rolls back (→ it proceeds itself).
* Known duplicates are answered before any counting; the rate/quota reservation (one
  server-side call together with that lookup, in a short transaction committed before
  the guard row is taken, so the hot counter rows are never locked across the publish)
  is given back when the request fails or loses the race to an identical one, so only
  accepted webhooks count. Both transactions run on one pooled connection, pipelined
  (``adapters.webhook_ledger``: two round trips, no ORM).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow_contracts import LeadReceived, Producer, lead_id_for, received_event_id
from leadflow_contracts.topics import LEAD_RECEIVED
from servicekit.events import Outgoing, new_envelope
from servicekit.faults import describe
from servicekit.kafka import EventPublisher
from servicekit.logging import error_text, get_logger

from leadflow_ingest.adapters.webhook_ledger import ReservationUncertain, WebhookLedger
from leadflow_ingest.adapters.webhook_store import UsageCounters
from leadflow_ingest.domain.quota import Windows, windows
from leadflow_ingest.domain.tenancy import TenantConfig

log = get_logger(__name__)


@dataclass(frozen=True)
class Accepted:
    lead_id: uuid.UUID
    duplicate: bool


class RateLimited(Exception):
    def __init__(self, window: str, retry_after_s: int) -> None:
        super().__init__(window)
        self.window = window  # "rate" or "quota"
        self.retry_after_s = retry_after_s


class DependencyUnavailable(Exception):
    """A dependency of the acceptance failed — the database (replay guard, counters,
    commit) or the broker (no acknowledgement in time, a refused record); ``reason``
    says which where it is known. Nothing was accepted; the sender should retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class WebhookAcceptor:
    ledger: WebhookLedger
    publisher: EventPublisher
    usage: UsageCounters
    producer: Producer
    ack_timeout_s: float

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
        window = windows(received_at)
        outgoing = Outgoing.of(LEAD_RECEIVED, envelope)
        reserved = False
        try:
            async with asyncio.timeout(self.ack_timeout_s), self.ledger.connection() as db:
                try:
                    claim = await db.reserve_and_claim(
                        tenant=tenant.slug,
                        webhook_id=webhook_id,
                        source=source,
                        lead_id=lead_id,
                        now=received_at,
                        windows=window,
                        per_minute=tenant.tier.rate_per_minute,
                        per_month=tenant.tier.monthly_quota,
                        record=outgoing.to_json(),
                    )
                except asyncio.CancelledError:
                    raise
                except ReservationUncertain as exc:
                    reserved = True
                    log.warning("replay guard failed", error=type(exc.__cause__).__name__)
                    raise DependencyUnavailable("database unavailable") from exc
                except Exception as exc:  # e.g. a pooled connection the database dropped
                    log.warning("replay guard or reservation failed", error=type(exc).__name__)
                    raise DependencyUnavailable("database unavailable") from exc
                if claim.known is not None:
                    return Accepted(claim.known, duplicate=True)
                if claim.exhausted is not None:
                    retry = (
                        window.seconds_to_next_minute
                        if claim.exhausted == "rate"
                        else window.seconds_to_next_month
                    )
                    raise RateLimited(claim.exhausted, retry)
                reserved = True
                try:
                    await self.publisher.publish(outgoing)
                except BaseException:
                    await db.rollback()  # the webhook-id is free again
                    raise
                await db.commit()
                return Accepted(lead_id, duplicate=False)
        except (RateLimited, DependencyUnavailable, asyncio.CancelledError):
            if reserved:
                await self._release(tenant.slug, window)
            raise
        except TimeoutError as exc:
            if reserved:
                await self._release(tenant.slug, window)
            log.warning("webhook not made durable in time", timeout_s=self.ack_timeout_s)
            raise DependencyUnavailable("not acknowledged in time") from exc
        except Exception as exc:
            if reserved:
                await self._release(tenant.slug, window)
            # E.g. the broker refused the record, or the commit failed after the ack (the
            # record is on the topic but the guard row is not; the caller's retry
            # republishes the same event_id).
            log.error("accepting webhook failed", error=error_text(exc))
            raise DependencyUnavailable(describe(exc)) from exc

    async def _release(self, tenant: str, window: Windows) -> None:
        """Best effort on a fresh connection: the one that failed may be unusable."""
        try:
            await self.usage.release(tenant, window)
        except Exception as exc:
            log.error("could not release a reservation", error=type(exc).__name__)
