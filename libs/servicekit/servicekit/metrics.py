"""Prometheus metrics every service exposes at ``/metrics``.

Each service gets its own ``CollectorRegistry`` (so several apps can live in one test
process); services add their own metrics to ``ServiceMetrics.registry``. Gauges that are
a database or broker question (readiness, outbox backlog, a service's own depths) are
asked when ``/metrics`` is scraped (``Runtime.refresh_metrics``), so they are as fresh as
the scrape and cost nothing between scrapes.

Every metric is declared one way, with ``counter``/``gauge``/``histogram`` (labels in
order); this class's own help texts are in ``metrics.toml`` beside it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from importlib.resources import files

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_HELP: dict[str, str] = tomllib.loads((files("servicekit") / "metrics.toml").read_text())

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.leads_processed = self._counter("leads_processed_total", "service", "outcome")
        self.stage_latency = self._histogram("stage_latency_seconds", "service", "stage")
        self.dlq_published = self._counter("dlq_published_total", "service", "topic", "exception")
        self.retries = self._counter("consumer_retries_total", "service", "topic")
        self.consumer_lag = self._gauge("consumer_lag", "service", "topic", "partition")
        self.ready = self._gauge("service_ready", "service", "check")
        self.outbox_pending = self._gauge("outbox_pending_records", "service")
        self.http_latency = self._histogram(
            "http_request_duration_seconds", "service", "method", "route", "status"
        )
        self.consumer_paused = self._gauge("consumer_paused", "service", "group")
        self.infrastructure_faults = self._counter(
            "infrastructure_faults_total", "service", "component"
        )
        self.outbox_parked = self._counter("outbox_parked_total", "service")
        self.redriven = self._counter("redriven_records_total", "service", "reason")

    def counter(self, name: str, doc: str, *labels: str) -> Counter:
        return Counter(name, doc, labels, registry=self.registry)

    def gauge(self, name: str, doc: str, *labels: str) -> Gauge:
        return Gauge(name, doc, labels, registry=self.registry)

    def histogram(
        self, name: str, doc: str, *labels: str, buckets: Sequence[float] = LATENCY_BUCKETS
    ) -> Histogram:
        return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)

    def _counter(self, name: str, *labels: str) -> Counter:
        return self.counter(name, _HELP[name], *labels)

    def _gauge(self, name: str, *labels: str) -> Gauge:
        return self.gauge(name, _HELP[name], *labels)

    def _histogram(self, name: str, *labels: str) -> Histogram:
        return self.histogram(name, _HELP[name], *labels)
