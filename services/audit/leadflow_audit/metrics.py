"""Audit's chain watch: the hash chain verified on a timer, the verdict as metrics.

A break is found by walking the whole chain, so it is not a scrape-time question: the
watch verifies every ``audit_verify_interval_s`` (and ``/v1/audit:verify`` records its
verdict too); ``audit_chain_broken`` holds the last verdict until the next one.
"""

from __future__ import annotations

import asyncio

from servicekit.logging import get_logger
from servicekit.metrics import ServiceMetrics

from leadflow_audit.adapters.store import EventStore
from leadflow_audit.domain.chain import Verdict

log = get_logger(__name__)


class ChainWatch:
    def __init__(self, metrics: ServiceMetrics, store: EventStore, interval_s: float) -> None:
        self._store = store
        self._interval_s = interval_s
        self.broken = metrics.gauge(
            "audit_chain_broken",
            "1 if the last verification of the hash chain found a break, else 0.",
        )
        self.verifications = metrics.counter(
            "audit_chain_verifications_total",
            "Verifications of the whole hash chain, by outcome (ok, broken).",
            "outcome",
        )
        self.last_verified = metrics.gauge(
            "audit_chain_last_verified_timestamp_seconds",
            "When the hash chain was last verified (Unix time; 0: not yet).",
        )

    def record(self, verdict: Verdict) -> None:
        self.broken.set(0 if verdict.ok else 1)
        self.verifications.labels("ok" if verdict.ok else "broken").inc()
        self.last_verified.set_to_current_time()
        if not verdict.ok:
            log.error(
                "audit chain broken",
                first_broken_position=verdict.first_broken_position,
                reason=verdict.reason,
            )

    async def run(self) -> None:
        """Verify forever (until cancelled); a failed walk is retried next interval."""
        while True:
            try:
                verdict, _ = await self._store.verify()
                self.record(verdict)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("chain verification failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self._interval_s)
