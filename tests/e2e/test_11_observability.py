"""Journey 11: what the dashboards and alert rules of deploy/compose ask for exists.

Every metric a Grafana panel or a Prometheus rule names must be exposed at ``/metrics``
by some service of the running stack (a histogram by its ``_bucket``/``_sum``/``_count``
series), so a renamed metric fails here instead of leaving an empty panel or an alert
that can never fire.
"""

from __future__ import annotations

from typing import Any

from leadflow_local.observability import (
    PROMETHEUS_OWN,
    dashboard_queries,
    exposed_names,
    metric_names,
    rule_queries,
)
from leadflow_local.stack import SERVICE_PORTS
from prometheus_client.parser import text_string_to_metric_families

#: The services Prometheus scrapes (the console is a front end over them, with no metrics).
SCRAPED = [s for s in SERVICE_PORTS if s != "console"]


async def _exposed(api: Any) -> dict[str, set[str]]:
    exposed = {}
    for service in SCRAPED:
        text = (await api.call(service, "GET", "/metrics", expect=200)).text
        exposed[service] = exposed_names(text_string_to_metric_families(text))
    return exposed


async def test_every_dashboard_and_alert_metric_is_exposed(api: Any) -> None:
    exposed = await _exposed(api)
    everywhere = set().union(*exposed.values())
    queries = dashboard_queries() + rule_queries()
    assert len(queries) > 20
    missing = {
        where: sorted(metric_names(expr) - everywhere - PROMETHEUS_OWN)
        for where, expr in queries
        if metric_names(expr) - everywhere - PROMETHEUS_OWN
    }
    assert not missing, f"named by a panel or rule, exposed by no service: {missing}"


async def test_gauges_read_at_scrape_time_are_there(api: Any) -> None:
    """Readiness and the outbox backlog on every service; the work queue on the router;
    the chain verdict on audit; the DLQ depth on dlq."""
    exposed = await _exposed(api)
    for service in SCRAPED:
        assert {"service_ready", "outbox_pending_records"} <= exposed[service], service
    assert "router_work_queue_items" in exposed["router"]
    assert "audit_chain_broken" in exposed["audit"]
    assert "dlq_pending_records" in exposed["dlq"]
