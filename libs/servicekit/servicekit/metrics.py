"""Prometheus metrics every service exposes at ``/metrics``.

Each service gets its own ``CollectorRegistry`` (so several apps can live in one test
process); services add their own metrics to ``ServiceMetrics.registry``. Gauges that are
a database or broker question (readiness, outbox backlog, a service's own depths) are
asked when ``/metrics`` is scraped (``Runtime.refresh_metrics``), so they are as fresh as
the scrape and cost nothing between scrapes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.leads_processed = Counter(
            "leads_processed_total",
            "Messages handled by a consumer, by outcome (ok, duplicate, dead_lettered).",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.stage_latency = Histogram(
            "stage_latency_seconds",
            "Seconds from the lead's receipt at the webhook to the end of this stage.",
            ["service", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.dlq_published = Counter(
            "dlq_published_total",
            "Records this service sent to a dead-letter topic.",
            ["service", "topic", "exception"],
            registry=self.registry,
        )
        self.retries = Counter(
            "consumer_retries_total",
            "Transient handler failures that were retried.",
            ["service", "topic"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "consumer_lag",
            "Records between the partition's high-water mark and the last handled offset.",
            ["service", "topic", "partition"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "service_ready",
            "1 if the readiness check passes (what /readyz answers), by check.",
            ["service", "check"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "outbox_pending_records",
            "Outbox records committed but not yet published to the broker.",
            ["service"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route and status.",
            ["service", "method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.consumer_paused = Gauge(
            "consumer_paused",
            "1 while a consumer group waits for a dependency (database or broker) to return.",
            ["service", "group"],
            registry=self.registry,
        )
        self.infrastructure_faults = Counter(
            "infrastructure_faults_total",
            "Dependency failures a consumer or relay waited out (never dead-lettered).",
            ["service", "component"],
            registry=self.registry,
        )
        self.outbox_parked = Counter(
            "outbox_parked_total",
            "Outbox records that could not be published and were set aside with their error.",
            ["service"],
            registry=self.registry,
        )
        self.redriven = Counter(
            "redriven_records_total",
            "Retained records re-published after broker data loss or an operator's redrive.",
            ["service", "reason"],
            registry=self.registry,
        )
