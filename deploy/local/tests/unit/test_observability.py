"""Reading metric names out of PromQL (what the dashboards-vs-metrics journey relies on)."""

from __future__ import annotations

import pytest
from leadflow_local.observability import exposed_names, metric_names
from prometheus_client.parser import text_string_to_metric_families


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up == 0", {"up"}),
        ('max by (original_topic) (dlq_pending_records{x="a b"}) > 0', {"dlq_pending_records"}),
        (
            'sum by (service) (rate(http_request_duration_seconds_count{status=~"5.."}[5m]))'
            " / sum without (le) (rate(leads_processed_total[1h:1m] offset 5m))",
            {"http_request_duration_seconds_count", "leads_processed_total"},
        ),
        (
            "histogram_quantile(0.99, sum by (le) (rate(stage_latency_seconds_bucket[5m])))",
            {"stage_latency_seconds_bucket"},
        ),
        (
            "a_total and on (service) group_left (x) b_total unless bool c or vector(0)",
            {"a_total", "b_total", "c"},
        ),
        (
            "time() - max(audit_chain_last_verified_timestamp_seconds) > 3600",
            {"audit_chain_last_verified_timestamp_seconds"},
        ),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_exposed_names_include_every_series_of_a_family_even_without_samples() -> None:
    text = (
        "# HELP c_total help\n# TYPE c_total counter\n"
        "# HELP h help\n# TYPE h histogram\n"
        'h_bucket{le="+Inf"} 1\nh_sum 0.1\nh_count 1\n'
        "# HELP g help\n# TYPE g gauge\n"
    )
    names = exposed_names(text_string_to_metric_families(text))
    assert {"c_total", "h_bucket", "h_sum", "h_count", "g"} <= names
    assert "h_total" not in names
