"""Scoring's own Prometheus metrics (on the service registry, served at ``/metrics``)."""

from __future__ import annotations

from servicekit.metrics import ServiceMetrics

STAGE = "lead.scored"


class ScoringMetrics:
    def __init__(self, service: ServiceMetrics) -> None:
        self._service = service
        self.leads_scored = service.counter(
            "leads_scored_total",
            "Leads scored for the first time (redeliveries not counted), by outcome.",
            "outcome",
        )

    def scored(self, *, qualified: bool, seconds: float) -> None:
        """One lead scored; ``seconds`` since it was received at the webhook."""
        self.leads_scored.labels("qualified" if qualified else "not_qualified").inc()
        self._service.stage_latency.labels(self._service.service, STAGE).observe(max(0.0, seconds))
