"""Ingest's own metrics, registered on the runtime's registry (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

#: Every outcome a webhook request can have (the ``outcome`` label).
OUTCOMES = (
    "accepted",
    "duplicate",
    "unauthorized",
    "invalid",
    "malformed",
    "rate_limited",
    "quota_exceeded",
    "too_large",
    "unsupported_media_type",
    "unavailable",
)
#: Label value for a tenant or source that does not exist (bounded label cardinality).
UNKNOWN = "_unknown"


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.webhooks = Counter(
            "webhooks_total",
            "Webhook requests by tenant, source and outcome.",
            ["tenant", "source", "outcome"],
            registry=registry,
        )

    def webhook(self, tenant: str, source: str, outcome: str) -> None:
        self.webhooks.labels(tenant, source, outcome).inc()
