"""What the compose stack's dashboards and alert rules ask Prometheus, and of which metrics.

Used to keep ``deploy/compose`` honest: every metric a Grafana panel or an alert rule
names must be one a service exposes at ``/metrics`` (a renamed metric would otherwise
leave an empty panel or an alert that can never fire). The PromQL is read, not
evaluated: names are what remains once strings, label matchers, ranges, grouping
clauses, function calls and keywords are taken out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "compose"
#: Series Prometheus makes itself (per scrape target), not any service.
PROMETHEUS_OWN = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_CLAUSE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = _CLAUSE.sub(" ", _RANGE.sub(" ", _MATCHERS.sub(" ", _STRING.sub(" ", expr))))
    names = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if not call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def _panel_exprs(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for panel in panels:
        yield from _panel_exprs(panel.get("panels", []))
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield str(panel.get("title", "")), str(target["expr"])


def dashboard_queries(compose_dir: Path = COMPOSE_DIR) -> list[tuple[str, str]]:
    """(dashboard file: panel title, PromQL) of every provisioned dashboard."""
    found = []
    for path in sorted((compose_dir / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        found += [(f"{path.name}: {t}", e) for t, e in _panel_exprs(dashboard["panels"])]
    return found


def rule_queries(compose_dir: Path = COMPOSE_DIR) -> list[tuple[str, str]]:
    """(rule file: alert or record name, PromQL) of every Prometheus rule."""
    found = []
    for path in sorted((compose_dir / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                found.append((f"{path.name}: {name}", str(rule["expr"])))
    return found


def exposed_names(families: Iterator[Any]) -> set[str]:
    """Every series name a ``/metrics`` page can hold, from its parsed metric families
    (``prometheus_client.parser``): a family is listed even before it has a sample."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("_sum", "_count", "_created"),
    }
    names: set[str] = set()
    for family in families:
        names.add(family.name)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names
