"""Ingest's own metrics, registered on the runtime's registry (served at /metrics)."""

from __future__ import annotations

from servicekit.metrics import ServiceMetrics

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
#: The ``tenant`` label of every series unless ``metrics_tenant_labels`` is set.
ALL_TENANTS = "_all"


class IngestMetrics:
    """``tenant_labels``: label series by tenant slug. Off by default: /metrics has no
    authentication (scrapers rarely send tokens), and tenant slugs are customer names."""

    def __init__(self, service: ServiceMetrics, *, tenant_labels: bool = False) -> None:
        self._tenant_labels = tenant_labels
        self.webhooks = service.counter(
            "webhooks_total",
            "Webhook requests by tenant, source and outcome.",
            "tenant",
            "source",
            "outcome",
        )
        self.webhook_groups = service.histogram(
            "webhook_group_size",
            "Webhooks accepted together: one round trip, produce batch and commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
        )

    def webhook_group(self, size: int) -> None:
        self.webhook_groups.observe(size)

    def webhook(self, tenant: str, source: str, outcome: str) -> None:
        self.webhooks.labels(tenant if self._tenant_labels else ALL_TENANTS, source, outcome).inc()
