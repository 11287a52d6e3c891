"""The chain watch turns each verification's verdict into audit_chain_* metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from leadflow_audit.domain.chain import Verdict
from leadflow_audit.metrics import ChainWatch
from servicekit.metrics import ServiceMetrics
from servicekit.testing.helpers import eventually


class FakeStore:
    def __init__(self, *verdicts: Verdict) -> None:
        self.verdicts = list(verdicts)
        self.calls = 0

    async def verify(self) -> tuple[Verdict, int]:
        self.calls += 1
        verdict = self.verdicts[min(self.calls, len(self.verdicts)) - 1]
        return verdict, verdict.count


def _until(condition: Any) -> Any:
    async def probe() -> bool:
        return bool(condition())

    return probe


def _value(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_a_break_sets_the_gauge_until_a_good_verdict_clears_it() -> None:
    metrics = ServiceMetrics("audit")
    broken = Verdict(ok=False, count=7, first_broken_position=5, reason="hash mismatch")
    store: Any = FakeStore(Verdict(ok=True, count=4), broken, Verdict(ok=True, count=9))
    watch = ChainWatch(metrics, store, interval_s=0.01)
    assert _value(metrics, "audit_chain_broken") == 0
    assert _value(metrics, "audit_chain_last_verified_timestamp_seconds") == 0

    task = asyncio.ensure_future(watch.run())
    try:
        await eventually(_until(lambda: store.calls >= 2), what="two verifications")
        broken_counted = _until(
            lambda: _value(metrics, "audit_chain_verifications_total", outcome="broken") == 1
        )
        await eventually(broken_counted, what="the broken verdict counted")
        await eventually(_until(lambda: store.calls >= 3), what="a third verification")
        await eventually(_until(lambda: _value(metrics, "audit_chain_broken") == 0), what="cleared")
    finally:
        task.cancel()
    assert _value(metrics, "audit_chain_last_verified_timestamp_seconds") > 0  # type: ignore[operator]


def test_recording_a_break() -> None:
    metrics = ServiceMetrics("audit")
    watch = ChainWatch(metrics, FakeStore(), interval_s=1)  # type: ignore[arg-type]
    watch.record(Verdict(ok=False, count=3, first_broken_position=2, reason="deleted row"))
    assert _value(metrics, "audit_chain_broken") == 1
    assert _value(metrics, "audit_chain_verifications_total", outcome="broken") == 1
    assert _value(metrics, "audit_chain_verifications_total", outcome="ok") is None
