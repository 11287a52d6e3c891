"""JSON shapes of the audit API (what operators and the e2e suite read)."""

from __future__ import annotations

from typing import Any

from leadflow_audit.domain.explain import summarize


def event_view(row: Any) -> dict[str, Any]:
    envelope = row.envelope
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    return {
        "position": row.position,
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "tenant_id": row.tenant_id,
        "lead_id": str(row.lead_id) if row.lead_id else None,
        "correlation_id": row.correlation_id,
        "causation_id": envelope.get("causation_id"),
        "trace_id": row.trace_id,
        "occurred_at": row.occurred_at.isoformat(),
        "recorded_at": row.recorded_at.isoformat(),
        "producer": envelope.get("producer"),
        "summary": summarize(row.event_type, payload if isinstance(payload, dict) else {}),
        "payload": payload,
        "row_hash": row.row_hash,
    }


def status_view(row: Any, *, now: Any = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "lead_id": str(row.lead_id),
        "tenant_id": row.tenant_id,
        "stage": row.stage,
        "terminal": row.terminal,
        "stage_at": row.stage_at.isoformat() if row.stage_at else None,
        "last_event_type": row.last_event_type,
        "last_event_at": row.last_event_at.isoformat(),
        "event_count": row.event_count,
    }
    if now is not None:
        view["age_seconds"] = round((now - row.last_event_at).total_seconds(), 3)
    return view
