"""A short ``make fuzz`` in every ``make test``: no 5xx, no answer outside the documented
schema or statuses, and no planted user data in the run's logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from fuzz.run import fuzz_served
from fuzz.targets import Run, serve_all

EXAMPLES = 10  # per operation, caller and generation mode: a few hundred per service


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged meanwhile, through structlog and the standard library."""
    buffer, saved = io.StringIO(), structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    handler = logging.StreamHandler(buffer)
    logging.getLogger().addHandler(handler)
    try:
        yield buffer
    finally:
        logging.getLogger().removeHandler(handler)
        structlog.configure(**saved)


def test_short_fuzz_of_every_service(
    kafka_bootstrap: str, postgres_url: str, logs: io.StringIO
) -> None:
    run = Run.new(postgres_url, kafka_bootstrap)
    with serve_all(run) as served:
        report = fuzz_served(served, examples=EXAMPLES, seconds=0)
    details = "\n".join(e for t in report.tallies for e in t.examples)
    print(report.table())
    assert all(t.requests >= 50 for t in report.tallies), report.table()
    assert [t.service for t in report.tallies if not t.clean] == [], details
    assert logs.getvalue(), "the capture saw no log line at all"
    for planted in run.planted:
        assert planted not in logs.getvalue()
