"""The proof pack: run the journeys, keep the evidence (``make proof``).

``python -m tests.e2e.proof [--out DIR] [test paths...]`` runs journeys 1-10 (or the given
test paths) with pytest against the embedded stack, or against the live deployment the
``LEADFLOW_E2E_*`` variables name (see ``tests/e2e/support``), and writes the bundle to
``DIR`` (default ``.data/proof/<UTC time>/``): ``junit.xml``, ``evidence/<test>.json``
(what ``support/evidence.py`` recorded) and ``report.md`` — per journey its requests and
answers (secrets masked), each lead's audit timeline and trace as a span tree, and
passed / not proved for every acceptance criterion of journeys 1-3. Exits with pytest's
status.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tests.e2e.support.deployment import live_urls
from tests.e2e.support.evidence import CRITERIA, PROOF_DIR_ENV

E2E = Path(__file__).parent
JOURNEYS = [str(p) for p in sorted(E2E.glob("test_[01][0-9]_*.py")) if p.name < "test_11"]
BODY_LIMIT = 1500


def run(out: Path, tests: list[str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {PROOF_DIR_ENV: str(out.resolve())}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={out / 'junit.xml'}", *tests]  # fmt: skip
    status = subprocess.run(command, env=env, check=False).returncode
    (out / "report.md").write_text(render(out, tests))
    return status


def _cases(junit: Path) -> list[tuple[str, str, str]]:
    """(test name, outcome, failure text) per testcase of the JUnit XML."""
    if not junit.exists():
        return []
    cases = []
    # Our own pytest wrote it a moment ago: nothing untrusted.
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
        outcome, text = "passed", ""
        for tag in ("failure", "error", "skipped"):
            if (found := case.find(tag)) is not None:
                outcome = {"failure": "failed", "error": "error"}.get(tag, "skipped")
                text = found.get("message") or ""
                break
        cases.append((case.get("name", ""), outcome, text))
    return cases


def _code(value: Any, lang: str = "json") -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if len(text) > BODY_LIMIT:
        text = text[:BODY_LIMIT] + f" … ({len(text) - BODY_LIMIT} more characters)"
    return f"```{lang}\n{text}\n```"


def span_tree(spans: list[dict[str, Any]]) -> str:
    """The spans indented under their parents (spans whose parent did not arrive are roots)."""
    ids = {s["span_id"] for s in spans}
    children: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        parent = s["parent_span_id"] if s["parent_span_id"] in ids else ""
        children.setdefault(parent, []).append(s)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for s in children.get(parent, []):
            lines.append(f"{'  ' * depth}{s['service']}: {s['name']}")
            walk(s["span_id"], depth + 1)

    walk("", 0)
    return "\n".join(lines)


def _exchange(number: int, exchange: dict[str, Any]) -> list[str]:
    request, answer = exchange["request"], exchange["answer"]
    headers = {k: v for k, v in request["headers"].items() if k.startswith(("webhook-", "auth"))}
    lines = [f"{number}. `{request['method']} {request['url']}` → **{answer['status']}**", ""]
    if headers:
        lines += ["   Request headers:", "", _code(headers), ""]
    if request["body"] is not None:
        lines += ["   Request body:", "", _code(request["body"]), ""]
    if answer["body"] is not None:
        lines += ["   Answer:", "", _code(answer["body"]), ""]
    return lines


def _lead(lead: dict[str, Any]) -> list[str]:
    lines = [f"#### Lead `{lead['lead_id']}` (tenant `{lead['tenant']}`)", "", "Timeline:", ""]
    timeline = lead["timeline"]
    if timeline:
        lines += ["| # | event | occurred at | summary |", "|---|---|---|---|"]
        for i, e in enumerate(timeline["events"], 1):
            summary = str(e.get("summary", "")).replace("|", "\\|")
            lines.append(f"| {i} | {e['event_type']} | {e.get('occurred_at', '')} | {summary} |")
        lines += ["", f"Stage: `{timeline['status']['stage']}`", ""]
    else:
        lines += ["_(no timeline)_", ""]
    tree = span_tree(lead["spans"])
    lines += [f"Trace `{lead['lead_id'].replace('-', '')}` ({len(lead['spans'])} spans):", ""]
    lines += [_code(tree or "(no spans received)", "text"), ""]
    return lines


def render(out: Path, tests: list[str]) -> str:
    cases = _cases(out / "junit.xml")
    evidence = {}
    for path in sorted((out / "evidence").glob("*.json")):
        item = orjson.loads(path.read_bytes())
        evidence[item["test"].rpartition("::")[2]] = item
    proved = {c: item["test"] for item in evidence.values() for c in item["criteria"]}
    mode = "live deployment" if live_urls() else "embedded stack (local mode)"
    passed = sum(1 for _, outcome, _ in cases if outcome == "passed")
    lines = [
        f"# Proof pack — {out.name}",
        "",
        f"Against: {mode}. Journeys: {passed} of {len(cases)} passed. "
        f"Command: `python -m tests.e2e.proof {' '.join(Path(t).name for t in tests)}`.",
        "Secrets (webhook secrets, signatures, bearer tokens) are masked as `***`.",
        "",
        "## Acceptance criteria of journeys 1-3",
        "",
        "| criterion | what | result | proved by |",
        "|---|---|---|---|",
    ]
    for cid, text in CRITERIA.items():
        result = "passed" if cid in proved else "not proved"
        lines.append(f"| {cid} | {text} | {result} | {proved.get(cid, '—')} |")
    lines += ["", "## Journeys", ""]
    for name, outcome, failure in cases:
        lines += [f"### {name} — {outcome}", ""]
        if failure:
            lines += [_code(failure, "text"), ""]
        item = evidence.get(name)
        if item is None:
            lines += ["_(no evidence recorded)_", ""]
            continue
        lines += [f"#### Requests and answers ({len(item['exchanges'])})", ""]
        for number, exchange in enumerate(item["exchanges"], 1):
            lines += _exchange(number, exchange)
        for lead in item["leads"]:
            lines += _lead(lead)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="bundle directory (default .data/proof/<time>)")
    parser.add_argument("tests", nargs="*", help="test paths (default journeys 1-10)")
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path(".data/proof") / stamp
    status = run(out, args.tests or JOURNEYS)
    print(f"proof pack: {out / 'report.md'} (JUnit: {out / 'junit.xml'})")
    sys.exit(status)


if __name__ == "__main__":
    main()
