"""One line per event saying what happened and why, from what its payload carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _excluded(payload: Mapping[str, Any]) -> str:
    parts = [
        f"{c.get('rep_id')}: {c.get('excluded_reason')}"
        for c in payload.get("candidates") or []
        if isinstance(c, Mapping) and c.get("excluded_reason")
    ]
    return "; excluded " + ", ".join(parts) if parts else ""


def summarize(event_type: str, payload: Mapping[str, Any]) -> str:
    p = payload
    if event_type == "lead.received":
        return f"webhook {p.get('webhook_id')} received from source {p.get('source')}"
    if event_type == "lead.created":
        lead = p.get("lead") or {}
        dup = lead.get("duplicate_of")
        return "lead normalized and stored" + (f" (duplicate of {dup})" if dup else "")
    if event_type == "lead.scored":
        verdict = "qualified" if p.get("qualified") else "not qualified"
        rules = ", ".join(
            f"{r.get('rule_id')} {int(r.get('points') or 0):+d}"
            for r in p.get("reasons") or []
            if isinstance(r, Mapping)
        )
        return (
            f"scored {p.get('score')}/100 (fit {p.get('fit')}, engagement "
            f"{p.get('engagement')}, threshold {p.get('threshold')}): {verdict}"
            + (f"; rules: {rules}" if rules else "")
        )
    if event_type == "lead.qualified":
        score = p.get("score") or {}
        return f"qualified with score {score.get('score')}, handed to routing"
    if event_type == "lead.assigned":
        return (
            f"assigned to {p.get('rep_id')} in team {p.get('team_id')} by "
            f"{p.get('strategy')}, SLA due {p.get('sla_due_at')}" + _excluded(p)
        )
    if event_type == "lead.routing_failed":
        return f"routing failed ({p.get('reason')}), work item {p.get('work_item_id')}" + _excluded(
            p
        )
    if event_type == "lead.sla_breached":
        return f"{p.get('rep_id')} did not acknowledge by {p.get('sla_due_at')}"
    if event_type == "lead.reassigned":
        return (
            f"reassigned from {p.get('previous_rep_id')} to {p.get('rep_id')} "
            f"({p.get('reason')})" + _excluded(p)
        )
    if event_type == "config.changed":
        return (
            f"{p.get('actor')} {p.get('action')} {p.get('entity')} {p.get('entity_id')} "
            f"in {p.get('service')}"
        )
    return event_type
