"""``make fuzz``: schemathesis against every service, a table of what it found.

    python -m fuzz.run [--seconds 60] [--examples 25] [--services ingest,router]

Uses the broker and PostgreSQL named by ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``,
else embedded ones. Exits non-zero when any service answered a 5xx, broke its response
schema, answered a status its OpenAPI does not document, or logged a planted value.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from dataclasses import dataclass

import structlog
from servicekit.logging import configure_logging
from servicekit.testing.infra import resolve_kafka, resolve_postgres

from fuzz.engine import Tally, fuzz_service
from fuzz.targets import SERVICES, Run, Served, serve_all


@dataclass
class Report:
    tallies: list[Tally]
    planted_in_logs: int

    @property
    def clean(self) -> bool:
        return self.planted_in_logs == 0 and all(t.clean for t in self.tallies)

    def table(self) -> str:
        lines = [
            "| service | requests | 5xx | schema violations | undocumented statuses |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {t.service} | {t.requests} | {t.server_errors} | {t.schema_violations} "
            f"| {t.undocumented} |"
            for t in self.tallies
        ]
        lines.append(f"\nPlanted values found in the run's logs: {self.planted_in_logs}")
        return "\n".join(lines)


def capture_logs() -> io.StringIO:
    """Every log line of the run (structlog and stdlib, e.g. uvicorn's tracebacks)."""
    buffer = io.StringIO()
    configure_logging("fuzz", "INFO")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    handler = logging.StreamHandler(buffer)
    logging.getLogger().addHandler(handler)
    return buffer


def fuzz(
    postgres_url: str,
    kafka: str,
    *,
    services: tuple[str, ...] = SERVICES,
    examples: int = 25,
    seconds: float = 0.0,
) -> Report:
    run = Run.new(postgres_url, kafka)
    logs = capture_logs()
    with serve_all(run, services) as served:
        report = fuzz_served(served, examples=examples, seconds=seconds)
    report.planted_in_logs = sum(logs.getvalue().count(value) for value in run.planted)
    return report


def fuzz_served(served: Served, *, examples: int, seconds: float) -> Report:
    """Fuzz every service of ``served`` in turn (``seconds`` each, at least one round)."""
    tallies = []
    for service, base in served.urls.items():
        tally = Tally(service)
        fuzz_service(tally, base, served.callers[service], examples=examples, seconds=seconds)
        tallies.append(tally)
    return Report(tallies, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per service, at least")
    parser.add_argument("--examples", type=int, default=25, help="per operation, caller, round")
    parser.add_argument("--services", default=",".join(SERVICES))
    args = parser.parse_args()
    postgres, kafka = resolve_postgres(), resolve_kafka()
    try:
        report = fuzz(
            postgres.url,
            kafka.url,
            services=tuple(args.services.split(",")),
            examples=args.examples,
            seconds=args.seconds,
        )
    finally:
        kafka.stop()
        postgres.stop()
    print(report.table())
    for tally in report.tallies:
        for example in tally.examples:
            print(f"  {tally.service}: {example}")
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
