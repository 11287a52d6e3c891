"""Journey 10: the operator's view of one lead — one trace from the webhook to
``lead.assigned``, an ordered audit timeline, a verified hash chain, metrics that moved
by the expected amounts, and JSON log lines that all carry the lead's correlation id."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from servicekit.testing.helpers import eventually

JOURNEY = ["lead.received", "lead.created", "lead.scored", "lead.qualified", "lead.assigned"]
#: Consume and publish spans, by the service that makes them, from webhook to assignment.
PUBLISHES = {
    "lead.received": "ingest",
    "sales.lead.created": "ingest",
    "lead.scored": "scoring",
    "lead.qualified": "scoring",
    "lead.assigned": "router",
}
CONSUMES = {"lead.received": "ingest", "sales.lead.created": "scoring", "lead.qualified": "router"}
SERVER, PRODUCER, CONSUMER = 2, 4, 5


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operator_sees_one_trace_timeline_chain_metrics_and_logs(
    provision, api, bus, timeline, deployment
) -> None:
    tenant = await provision()
    await api.qualify_everything(tenant.slug)
    team = await api.create_team(tenant.slug, "ops", strategy="least_loaded")
    rep = await api.create_rep(tenant.slug, "olga", team)
    await api.put_routing_rules(tenant.slug, default_team=team)
    before = {s: await api.metrics(s) for s in ("ingest", "scoring", "router", "audit")}

    lead_id, correlation_id = await tenant.send_lead(tenant.lead("traced"))
    [assigned] = await bus.wait("lead.assigned", lead_id=lead_id)
    assert assigned.payload["rep_id"] == rep

    # The audit timeline holds every event once, in order, each caused by the previous.
    story = await timeline(tenant.slug, lead_id, *JOURNEY)
    events = story["events"]
    assert [e["event_type"] for e in events] == JOURNEY
    assert story["correlation_id"] == correlation_id
    assert {e["correlation_id"] for e in events} == {correlation_id}
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    occurred = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert occurred == sorted(occurred)
    by_type = {e["event_type"]: e for e in events}
    assert by_type["lead.received"]["causation_id"] is None
    for event_type, cause in [
        ("lead.created", "lead.received"),
        ("lead.scored", "lead.created"),
        ("lead.qualified", "lead.created"),
        ("lead.assigned", "lead.qualified"),
    ]:
        assert by_type[event_type]["causation_id"] == by_type[cause]["event_id"], event_type
    assert story["status"]["stage"] == "assigned"
    # One trace id for the whole journey, as recorded from each record's traceparent.
    trace_ids = {e["trace_id"] for e in events}
    assert len(trace_ids) == 1, trace_ids
    [trace_id] = trace_ids
    assert trace_id is not None
    # The trace id is the lead id (ingest seeds it), so a retried webhook joins it too.
    assert trace_id == uuid.UUID(str(lead_id)).hex
    by_trace = await api.audit_events(tenant.slug, trace_id=trace_id)
    assert [e["event_id"] for e in by_trace["events"]] == [e["event_id"] for e in events]

    verdict = await api.verify_chain()
    assert verdict["ok"] is True, verdict
    assert verdict["count"] >= len(events)

    # What is left is checked section by section, and every gap is reported at once.
    after = {s: await api.metrics(s) for s in before}
    gaps = _check_metrics(before, after, tenant.slug)
    gaps += await _check_spans(deployment, trace_id)
    log_gaps = _check_logs(deployment, lead_id, correlation_id)
    assert not gaps, "\n".join(gaps + log_gaps)
    assert not log_gaps, "\n".join(log_gaps)
    if deployment.spans is None:
        pytest.skip(
            "every other check of journey 10 passed; span collection skipped: live mode "
            "without LEADFLOW_E2E_OTLP_PORT (point the deployment's OTLP exporter at a "
            "receiver this suite starts on that port to include it)"
        )


def _moved(before: dict, after: dict, name: str, **labels: str) -> float:
    return _value(after, name, **labels) - _value(before, name, **labels)


def _check_metrics(before: dict, after: dict, slug: str) -> list[str]:
    """Counters moved by the expected amounts: tenant-labelled ones exactly; service-wide
    ones at least (other tenants' leads may move them concurrently in live mode)."""
    gaps = []
    accepted = {"tenant": slug, "source": "generic", "outcome": "accepted"}
    if _value(after["ingest"], "webhooks_total", **accepted):
        if _moved(before["ingest"], after["ingest"], "webhooks_total", **accepted) != 1:
            gaps.append(f"ingest: webhooks_total{accepted} did not move by exactly 1")
    else:  # a deployment without LEADFLOW_METRICS_TENANT_LABELS: one series for all
        accepted["tenant"] = "_all"
        if _moved(before["ingest"], after["ingest"], "webhooks_total", **accepted) < 1:
            gaps.append(f"ingest: webhooks_total{accepted} did not move")
    wanted = {"ingest": 1, "scoring": 1, "router": 1, "audit": len(JOURNEY)}
    for service, least in wanted.items():
        ok = {"service": service, "outcome": "ok"}
        moved = _moved(before[service], after[service], "leads_processed_total", **ok)
        if moved < least:
            gaps.append(f"{service}: leads_processed_total{ok} moved {moved}, expected >= {least}")
    for service in ("ingest", "scoring", "router"):
        counts = {
            dict(k[1]).get("stage"): v - before[service].get(k, 0.0)
            for k, v in after[service].items()
            if k[0] == "stage_latency_seconds_count"
        }
        if not any(v >= 1 for v in counts.values()):
            gaps.append(f"{service}: stage_latency_seconds observed nothing for the lead")
    return gaps


def _check_logs(deployment, lead_id: uuid.UUID, correlation_id: str) -> list[str]:
    """Every JSON log line about this lead carries its correlation id, and every service
    that handled the lead wrote at least one."""
    if deployment.log_dir is None:
        return []
    gaps = []
    lines_by_service: dict[str, list[dict]] = {}
    for service in ("ingest", "scoring", "router", "audit"):
        path = deployment.log_path(service)
        if path is None or not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if str(lead_id) not in line and correlation_id not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                gaps.append(f"{service}: a non-JSON log line about the lead: {line[:200]}")
                continue
            lines_by_service.setdefault(service, []).append(record)
    for service, records in lines_by_service.items():
        for record in records:
            if record.get("correlation_id") != correlation_id or record.get("service") != service:
                gaps.append(f"{service}: log line without the correlation id: {record}")
    missing = sorted({"ingest", "scoring", "router"} - set(lines_by_service))
    if missing:
        gaps.append(
            f"no JSON log line about lead {lead_id} from {', '.join(missing)} (per-record "
            "lines are debug-level: does the deployment run with LEADFLOW_LOG_LEVEL=DEBUG?)"
        )
    return gaps


async def _check_spans(deployment, trace_id: str) -> list[str]:
    """One trace: the webhook's HTTP server span is its root, and it holds every publish
    and consume span up to ``lead.assigned``, each span's parent in the same trace."""
    if deployment.spans is None:
        return []
    collector = deployment.spans

    def missing() -> list[str]:
        spans = collector.trace(trace_id)
        have = {(s.service, s.kind, s.name) for s in spans}
        wanted = [
            (service, PRODUCER, f"{topic} publish") for topic, service in PUBLISHES.items()
        ] + [(service, CONSUMER, f"{topic} process") for topic, service in CONSUMES.items()]
        gaps = [f"{w[0]}: span {w[2]!r}" for w in wanted if w not in have]
        if not [s for s in spans if s.service == "ingest" and s.kind == SERVER]:
            gaps.append("ingest: the webhook's HTTP server span")
        return gaps

    async def complete() -> bool:
        return not missing()

    try:
        await eventually(complete, timeout_s=20, interval_s=0.2, what="the journey's spans")
    except AssertionError:
        names = sorted({(s.service, s.name) for s in collector.trace(trace_id)})
        return [f"trace {trace_id} lacks {g}" for g in missing()] + [f"(it has {names})"]
    spans = collector.trace(trace_id)
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]
    if len(roots) != 1 or roots[0].kind != SERVER or roots[0].service != "ingest":
        return [f"trace {trace_id} is not one tree rooted at the webhook: roots {roots}"]
    if roots[0].name != "POST /v1/webhooks/{tenant}/{source}":
        return [f"the trace's root is {roots[0].name!r}, not the webhook request"]
    return []
