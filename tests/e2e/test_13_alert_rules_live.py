"""Journey 13: a real Prometheus evaluates the alert rules against the running stack.

Debian's (or any) ``prometheus`` binary scrapes every service each second with the rules
of ``deploy/compose/prometheus/rules`` loaded. Every rule must evaluate without error on
live series, and on this healthy stack the alerts for a service that is down or not
ready, or for a broken audit chain, must stay inactive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadflow_local.prometheus import LocalPrometheus, prometheus_binary
from servicekit.testing.helpers import eventually

QUIET_ON_A_HEALTHY_STACK = (
    "LeadflowServiceDown",
    "LeadflowServiceNotReady",
    "LeadflowAuditChainBroken",
)


@pytest.fixture
def prometheus(deployment: Any, tmp_path: Path) -> Any:
    if prometheus_binary() is None:
        reason = "prometheus is not installed (Debian/Ubuntu: apt-get install prometheus)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason}; CI must have it (.ci/run installs it)")
        pytest.skip(reason)
    scraped = {name: url for name, url in deployment.urls.items() if name != "console"}
    local = LocalPrometheus(scraped, tmp_path / "prometheus").start()
    try:
        yield local
    finally:
        local.stop()


async def test_alert_rules_evaluate_against_live_metrics(prometheus: Any) -> None:
    async with httpx.AsyncClient(base_url=prometheus.url, timeout=5.0) as http:

        async def targets_up() -> bool:
            active = (await http.get("/api/v1/targets")).json()["data"]["activeTargets"]
            return len(active) == 5 and all(t["health"] == "up" for t in active)

        await eventually(targets_up, timeout_s=60, what="every service scraped")

        async def evaluated() -> list[dict[str, Any]] | None:
            groups = (await http.get("/api/v1/rules")).json()["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            fresh = all(r["lastEvaluation"] > "2000" and r["health"] != "unknown" for r in rules)
            return rules if rules and fresh else None

        rules = await eventually(evaluated, timeout_s=60, what="every rule evaluated")
        broken = {r["name"]: r.get("lastError") for r in rules if r["health"] != "ok"}
        assert not broken, f"rules that do not evaluate: {broken}"
        assert len(rules) >= 13

        async def after_a_few_scrapes() -> dict[str, Any] | None:
            query = {"query": "count(service_ready == 1)"}
            found = (await http.get("/api/v1/query", params=query)).json()["data"]["result"]
            return found[0] if found and found[0]["value"][1] == "15" else None

        # broker, database and faults (a paused consumer, lost topics) on each service
        await eventually(after_a_few_scrapes, timeout_s=60, what="5 services x 3 checks ready")
        groups = (await http.get("/api/v1/rules")).json()["data"]["groups"]
        states = {r["name"]: r["state"] for g in groups for r in g["rules"]}
        for name in QUIET_ON_A_HEALTHY_STACK:
            assert states[name] == "inactive", f"{name} is {states[name]} on a healthy stack"
