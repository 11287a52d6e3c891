"""The demo's printed table: one row per lead, with what the story expected."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from leadflow_local.demo.run import DemoReport, LeadReport

OUTCOME_LABELS = {
    "assigned": "assigned",
    "unqualified": "unqualified",
    "duplicate": "duplicate",
    "work_queue_assigned": "work queue → assigned",
    "reassigned": "SLA breached → reassigned",
    "dlq_replayed": "DLQ → fixed, replayed → assigned",
}


def outcome_cell(lead: LeadReport) -> str:
    result = lead.result
    label = OUTCOME_LABELS.get(result.outcome, result.outcome)
    if result.strategy and result.outcome != "reassigned":
        label += f" ({result.strategy})"
    if result.outcome == "reassigned" and result.previous_rep_id:
        label += f" (from {result.previous_rep_id})"
    if lead.ok:
        return f"✓ {label}"
    return f"✗ {label}; " + "; ".join(lead.problems)


def rep_cell(lead: LeadReport) -> str:
    result = lead.result
    if result.rep_id is None:
        return "-"
    return f"{result.rep_id} / {result.team_id}" if result.team_id else result.rep_id


def render(report: DemoReport, *, width: int = 200) -> str:
    """The table as text, ``width`` columns wide (rich wraps cells that do not fit)."""
    table = Table(title="Leadflow demo: ten leads", box=box.SIMPLE_HEAD, title_justify="left")
    for column in ("#", "lead", "story", "score", "top reasons", "outcome", "rep / team"):
        table.add_column(column, overflow="fold")
    table.add_column("console page", no_wrap=True)
    for number, row in enumerate(report.leads, start=1):
        lead, result = row.lead, row.result
        table.add_row(
            str(number),
            f"{lead.name}\n{lead.tenant}",
            lead.title,
            "-" if result.score is None else str(result.score),
            ", ".join(result.top_reasons()) or "-",
            outcome_cell(row),
            rep_cell(row),
            row.console_url or str(lead.lead_id),
        )
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, highlight=False).print(table)
    ok = sum(lead.ok for lead in report.leads)
    summary = f"{ok}/{len(report.leads)} leads reached the outcome the story expects."
    if report.changed:
        summary += f" This run changed {len(report.changes)} thing(s)."
    else:
        summary += " Nothing changed: everything was in place already (a repeat run)."
    return buffer.getvalue() + summary
