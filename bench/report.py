"""Bench output: JSON, a markdown table on the terminal, and a PNG plot."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

TARGETS = {
    "ingest_per_s": 2500,
    "pipeline_per_s": 500,
    "p99_at_100_ms": 250,
    "rss_mib": 150,
}


def percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50": None, "p95": None, "p99": None, "count": len(values)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "count": len(values)}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def markdown(results: dict[str, Any]) -> str:
    ceiling = results["ceiling"]["records_per_second"]
    ingest = results["ingest"]
    pipeline = results["pipeline"]
    loss = results["zero_loss"]
    at_fixed_rates = [
        (
            f"e2e latency at {fixed['offered_per_s']}/s p50 / p95 / p99",
            " / ".join(_ms(fixed["e2e_latency_s"][k]) for k in ("p50", "p95", "p99")),
            "",
            f"p99 ≤ {TARGETS['p99_at_100_ms']} ms" if fixed["offered_per_s"] == 100 else "",
        )
        for fixed in results["fixed_rates"]
    ]
    rows = [
        ("broker relay ceiling (4 hops)", f"{ceiling:,.0f} rec/s", "1.00", "-"),
        (
            "ingest accepted",
            f"{ingest['accepted_per_s']:,.0f} /s",
            f"{ingest['accepted_per_s'] / ceiling:.2f}",
            f"≥ {TARGETS['ingest_per_s']:,}/s",
        ),
        (
            "ingest HTTP p50 / p95 / p99",
            " / ".join(_ms(ingest["http_latency_s"][k]) for k in ("p50", "p95", "p99")),
            "",
            "",
        ),
        (
            "pipeline sustained (assigned in window)",
            f"{pipeline['assigned_in_window_per_s']:,.0f} /s",
            f"{pipeline['assigned_in_window_per_s'] / ceiling:.2f}",
            f"≥ {TARGETS['pipeline_per_s']:,}/s",
        ),
        (
            "pipeline incl. drain",
            f"{pipeline['end_to_end_per_s']:,.0f} /s",
            f"{pipeline['end_to_end_per_s'] / ceiling:.2f}",
            "",
        ),
        (
            "e2e latency at max p50 / p95 / p99",
            " / ".join(_ms(pipeline["e2e_latency_s"][k]) for k in ("p50", "p95", "p99")),
            "",
            "",
        ),
        *at_fixed_rates,
        (
            "audit lag at window end / after drain",
            f"{pipeline['audit_lag_at_window_end']:.0f} / {pipeline['audit_lag_after_drain']:.0f}",
            "",
            "0",
        ),
        (
            "zero loss: accepted / not assigned / twice",
            f"{loss['accepted']} / {loss['not_assigned']} / {loss['assigned_twice']}",
            "",
            "x / 0 / 0",
        ),
    ]
    rows += [
        (f"peak RSS {name}", f"{mib:.0f} MiB", "", f"≤ {TARGETS['rss_mib']} MiB")
        for name, mib in results["peak_rss_mib"].items()
    ]
    lines = ["| measure | value | ratio to ceiling | target |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    if "cpu" in results:
        lines += ["", cpu_table(results["cpu"])]
    return "\n".join(lines)


def cpu_table(
    cpu: dict[str, Any], window: str = "the sustained window", leads: str = "accepted"
) -> str:
    """CPU per lead during a measurement window, most expensive first."""
    groups = sorted(cpu["groups"].items(), key=lambda item: -item[1]["cpu_s"])
    total = sum(g["ms_per_lead"] for _, g in groups)
    lines = [
        f"CPU in {window} ({cpu['leads']} {leads}, machine "
        f"{cpu['machine_busy']:.0%} busy, of which {cpu.get('machine_steal', 0):.0%} stolen "
        f"by the hypervisor and {cpu.get('machine_irq', 0):.0%} interrupts):",
        "",
        "| process | CPU s | ms per lead | share |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {g['cpu_s']:.1f} | {g['ms_per_lead']:.2f} | "
        f"{g['ms_per_lead'] / total if total else 0:.0%} |"
        for name, g in groups
    ]
    lines.append(f"| all | {sum(g['cpu_s'] for _, g in groups):.1f} | {total:.2f} | 100% |")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    started = results["timeline"]["started"]
    seconds = [t - started for t in results["timeline"]["assigned_at"] if t >= started]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    if seconds:
        left.hist(seconds, bins=max(1, int(max(seconds)) + 1))
    left.set_title("leads assigned per second (sustained phase)")
    left.set_xlabel("seconds since start")
    right.set_title("end-to-end latency percentiles")
    series = [(f"{f['offered_per_s']}/s offered", f) for f in results["fixed_rates"]]
    for label, phase in [*series, ("max load", results["pipeline"])]:
        p = phase["e2e_latency_s"]
        values = [p[k] * 1000 if p[k] is not None else 0 for k in ("p50", "p95", "p99")]
        right.plot(["p50", "p95", "p99"], values, marker="o", label=label)
    right.set_ylabel("ms")
    right.legend()
    fig.tight_layout()
    fig.savefig(path)


def write_report(results: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    table = markdown(results)
    out = directory / f"{stamp}.json"
    summary = {k: v for k, v in results.items() if k != "timeline"}
    out.write_bytes(
        orjson.dumps(
            summary | {"table": table},
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
            default=str,
        )
    )
    plot(results, directory / f"{stamp}.png")
    print(table)
    print(f"\nwrote {out} and {out.with_suffix('.png')}")
    return out
