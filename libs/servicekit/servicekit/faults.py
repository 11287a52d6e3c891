"""Faults of the infrastructure versus faults of a record — the rule every path follows.

A record is dead-lettered only for its own fault: it cannot be parsed, it fails its
contract, a handler raised ``InvalidMessage``, or a record-specific error persisted
through every retry. An *infrastructure* fault — PostgreSQL or the broker unreachable,
a connection dropped, a timeout — says nothing about the record: the consumer pauses,
keeps its offsets, reports not-ready, and tries again until the dependency is back; an
HTTP caller gets 503 with Retry-After. Dead-lettering good records during an outage
(bounded retries shorter than the outage) is how leads answered 202 got lost.

``is_infrastructure_fault`` walks the exception's cause chain, because SQLAlchemy wraps
psycopg's errors and our own layers wrap both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc

#: SQLSTATE classes and codes that describe the server or the connection, not the
#: statement: connection exceptions (08), insufficient resources (53), operator
#: intervention such as a shutdown (57P01-57P05), system errors (58), and the
#: concurrency conflicts that a retry resolves (serialization failure, deadlock).
_INFRA_SQLSTATE_CLASSES = ("08", "53", "58")
_INFRA_SQLSTATES = {"57P01", "57P02", "57P03", "57P04", "57P05", "40001", "40P01"}


class InfrastructureFault(Exception):
    """Raise (or wrap) to say: a dependency failed, not the record or the request."""


class DatabaseUnavailable(InfrastructureFault):
    pass


class BrokerUnavailable(InfrastructureFault):
    pass


#: The exception families a dependency raises (what HTTP maps to 503 when it is an outage).
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    InfrastructureFault,
    sa_exc.SQLAlchemyError,
    psycopg.Error,
    kafka_errors.KafkaError,
    OSError,
    TimeoutError,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _psycopg_infra(exc: psycopg.Error) -> bool:
    state = exc.sqlstate
    if state is None:  # raised by the client: the connection failed or was lost
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return state.startswith(_INFRA_SQLSTATE_CLASSES) or state in _INFRA_SQLSTATES


def _one(exc: BaseException) -> bool:
    if isinstance(exc, InfrastructureFault):
        return True
    if isinstance(exc, psycopg.Error):
        return _psycopg_infra(exc)
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated)
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # pool checkout timed out / connection lost
    if isinstance(exc, kafka_errors.KafkaError):
        return bool(getattr(exc, "retriable", False)) or isinstance(
            exc, kafka_errors.KafkaConnectionError | kafka_errors.KafkaTimeoutError
        )
    return isinstance(exc, OSError | TimeoutError | asyncio.TimeoutError)


def is_infrastructure_fault(exc: BaseException) -> bool:
    """Whether ``exc`` (or anything in its cause chain) is a dependency's failure."""
    return any(_one(e) for e in _chain(exc))


def describe(exc: BaseException) -> str:
    """A short reason for /readyz and logs: no SQL, no parameters, no user data."""
    if not is_infrastructure_fault(exc):
        return f"error ({type(exc).__name__})"
    for e in _chain(exc):
        if isinstance(e, psycopg.Error | sa_exc.SQLAlchemyError | DatabaseUnavailable):
            return "database unavailable"
        if isinstance(e, kafka_errors.KafkaError | BrokerUnavailable):
            return "broker unavailable"
    return f"dependency unavailable ({type(exc).__name__})"


@dataclass
class Health:
    """What the process knows is wrong right now, by component (e.g. a paused consumer).

    ``/readyz`` reports each entry with its reason and since when; the component clears
    it itself once it works again.
    """

    _faults: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def fault(self, component: str, reason: str) -> None:
        since = self._faults.get(component, (reason, datetime.now(UTC)))[1]
        self._faults[component] = (reason, since)

    def clear(self, component: str) -> None:
        self._faults.pop(component, None)

    def faults(self) -> dict[str, dict[str, str]]:
        return {
            name: {"reason": reason, "since": since.isoformat()}
            for name, (reason, since) in sorted(self._faults.items())
        }
