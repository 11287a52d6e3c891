"""Router metrics, on the runtime's registry (``/metrics``).

``leads_processed_total`` is counted by servicekit's consumer (ok / duplicate /
dead-lettered); here: what the router decided, and receipt → assignment latency.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter
from servicekit.metrics import ServiceMetrics


class RouterMetrics:
    def __init__(self, service: ServiceMetrics) -> None:
        registry: CollectorRegistry = service.registry
        self.service = service
        self.decisions = Counter(
            "router_decisions_total",
            "Routing outcomes by path (pipeline, retry, manual, sla) and outcome "
            "(assigned, routing_failed, reassigned).",
            ["path", "outcome"],
            registry=registry,
        )

    def decided(self, path: str, outcome: str) -> None:
        self.decisions.labels(path, outcome).inc()

    def assigned_after(self, seconds: float) -> None:
        self.service.stage_latency.labels(self.service.service, "lead.assigned").observe(
            max(0.0, seconds)
        )
