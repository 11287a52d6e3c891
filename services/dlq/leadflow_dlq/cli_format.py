"""Human-readable output of the dlq CLI (tables and a detail view)."""

from __future__ import annotations

import json
from typing import Any

COLUMNS = (
    ("ID", "id", 36),
    ("STATUS", "status", 9),
    ("TOPIC", "topic", 22),
    ("TENANT", "tenant_id", 16),
    ("EXCEPTION", "exception_class", 28),
    ("TRIES", "attempts", 5),
    ("REPLAYS", "replay_count", 7),
    ("FAILED AT", "last_failed_at", 19),
)


def _cell(value: Any, width: int) -> str:
    text = "-" if value is None else str(value)
    if len(text) > width:
        text = "…" + text[-(width - 1) :]
    return text.ljust(width)


def print_table(items: list[dict[str, Any]], next_after: str | None = None) -> None:
    print("  ".join(_cell(title, width) for title, _, width in COLUMNS).rstrip())
    for item in items:
        row = dict(item)
        if row.get("last_failed_at"):
            row["last_failed_at"] = str(row["last_failed_at"])[:19].replace("T", " ")
        print("  ".join(_cell(row.get(key), width) for _, key, width in COLUMNS).rstrip())
    print(f"({len(items)} record(s))")
    if next_after:
        print(f"more: --after {next_after}")


def print_detail(record: dict[str, Any]) -> None:
    fields = [
        "id",
        "status",
        "topic",
        "original_topic",
        "original_partition",
        "original_offset",
        "consumer_group",
        "tenant_id",
        "event_id",
        "event_type",
        "lead_id",
        "exception_class",
        "exception_message",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        "received_at",
        "replay_count",
        "replay_of",
        "value_problem",
    ]
    width = max(len(f) for f in fields)
    for name in fields:
        print(f"{name:<{width}}  {record.get(name) if record.get(name) is not None else '-'}")
    key = record.get("key")
    print(f"{'key':<{width}}  {key['data'] if key else '-'}")
    print("headers:")
    for header in record.get("headers", []):
        print(f"  {header['key']}: {header['value']}")
    value = record["value"]
    print(f"value ({value['encoding']}, {value['size']} bytes):")
    if value.get("json") is not None:
        print(json.dumps(value["json"], indent=2, ensure_ascii=False))
    else:
        print(value.get("data") or "-")
    print("history:")
    for event in record.get("history", []):
        reason = f" — {event['reason']}" if event.get("reason") else ""
        print(f"  {event['at']}  {event['action']:<9} by {event['actor']}{reason}")
    if record.get("stacktrace"):
        print("stacktrace:")
        print(record["stacktrace"].rstrip())


def print_bulk(result: dict[str, Any]) -> None:
    print(f"replayed {result['replayed']} record(s) (bound {result['limit']})")
    for record_id in result["ids"]:
        print(f"  {record_id}")
    if result["skipped"]:
        print(f"skipped {len(result['skipped'])} changed meanwhile")
    if result["more"]:
        print("more records match; run again to continue")
