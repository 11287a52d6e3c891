"""Schemathesis against one running service: every operation of its OpenAPI document,
positive and negative examples, as an admin of every tenant (generated path parameters)
and as a manager of one seeded tenant (its ids in the path), round after round until
the time budget is spent.

Counted per service: requests, 5xx, response-schema violations (body or content type
not as documented) and undocumented statuses.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SCHEMA_CHECKS = (response_schema_conformance, content_type_conformance)


@dataclass
class Tally:
    service: str
    requests: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    undocumented: int = 0
    generation_errors: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.examples) < 20 and what not in self.examples:
            self.examples.append(what)

    @property
    def clean(self) -> bool:
        return not (self.server_errors or self.schema_violations or self.undocumented)


@dataclass(frozen=True)
class Caller:
    """One identity: its bearer token and the path parameters it fixes (its tenant's)."""

    name: str
    token: str
    path: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI, port: int, timeout_s: float = 60.0) -> Iterator[str]:
    """Run ``app`` (with its lifespan) under uvicorn in a thread; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, name=f"fuzz-{port}", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the service on port {port} did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _failed(case: Any, response: Any, checks: tuple[Any, ...]) -> bool:
    try:
        case.validate_response(response, checks=list(checks))
    except (Failure, FailureGroup):
        return True
    return False


def fuzz_service(
    tally: Tally,
    base: str,
    callers: list[Caller],
    *,
    examples: int,
    seconds: float,
) -> None:
    """At least one round over every operation; more while ``seconds`` last."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise RuntimeError(f"{base}/openapi.json has an invalid operation: {result}")
        operations.append(result.ok())
    http = requests.Session()
    deadline = time.monotonic() + seconds
    first = True
    while first or time.monotonic() < deadline:
        first = False
        for operation in operations:
            for caller in callers:
                _fuzz_operation(tally, http, base, operation, caller, examples)


def _fuzz_operation(
    tally: Tally, http: requests.Session, base: str, operation: Any, caller: Caller, n: int
) -> None:
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in caller.path.items() if k in names} or None
    strategy = operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE, path_parameters=fixed
    ) | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=fixed)
    auth = {"Authorization": f"Bearer {caller.token}"}

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=base, session=http, headers=auth, timeout=30)
        tally.requests += 1
        where = f"{case.method} {case.path} as {caller.name} → {response.status_code}"
        if response.status_code >= 500:
            tally.server_errors += 1
            tally.note(f"5xx: {where}: {response.text[:200]}")
        if _failed(case, response, (status_code_conformance,)):
            tally.undocumented += 1
            tally.note(f"undocumented: {where}")
        if _failed(case, response, SCHEMA_CHECKS):
            tally.schema_violations += 1
            tally.note(f"schema: {where}: {response.text[:200]}")

    try:
        run()
    except HypothesisException as exc:  # e.g. an operation whose schema cannot be satisfied
        tally.generation_errors += 1
        tally.note(f"generation: {operation.method.upper()} {operation.path}: {exc}")
