"""structlog JSON logs: one object per line, bound to the trace and the lead.

``bind_event_context`` puts correlation_id / tenant_id / lead_id in contextvars for the
duration of one message; every line logged meanwhile carries them plus the current
trace_id and span_id. Keys that could hold secrets are redacted, never printed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
import structlog
from opentelemetry import trace
from sqlalchemy.exc import DBAPIError

_REDACTED_KEYS = ("secret", "signature", "authorization", "password", "token")


def _add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event.setdefault("span_id", format(ctx.span_id, "016x"))
    return event


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _REDACTED_KEYS):
            event[key] = "[redacted]"
    return event


def _orjson_dumps(obj: Any, default: Any) -> str:
    return orjson.dumps(obj, default=default).decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Configure structlog (and stdlib logging) to write JSON lines to stdout."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_ids,
            _redact,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_orjson_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)


def error_text(exc: BaseException, limit: int = 500) -> str:
    """``Class: message`` for a log line. PostgreSQL's messages quote the values they
    refused (``invalid input syntax for type integer: "<value>"``), which are user data:
    for a database error only its class, SQLSTATE and statement are given."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(cause, psycopg.Error):
        sql = exc.statement if isinstance(exc, DBAPIError) else None
        statement = f" in [{sql[:200]}]" if sql else ""
        return (
            f"{type(exc).__name__}: {type(cause).__name__} (SQLSTATE {cause.sqlstate}){statement}"
        )
    return f"{type(exc).__name__}: {str(exc)[:limit]}"


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


@contextmanager
def bind_event_context(
    *, correlation_id: str | None, tenant_id: str | None, lead_id: object | None
) -> Iterator[None]:
    values = {
        "correlation_id": correlation_id,
        "tenant_id": tenant_id,
        "lead_id": str(lead_id) if lead_id is not None else None,
    }
    with structlog.contextvars.bound_contextvars(
        **{k: v for k, v in values.items() if v is not None}
    ):
        yield
