"""What the routes need, built once by ``create_app`` and kept on ``app.state.router``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from servicekit.auth import Principal
from servicekit.logging import get_logger
from servicekit.problems import ProblemError
from servicekit.runtime import Runtime

from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.work_queue import WorkQueueTimer
from leadflow_router.settings import Settings

log = get_logger(__name__)


@dataclass
class RouterContext:
    settings: Settings
    runtime: Runtime
    deps: RoutingDeps
    clock: Callable[[], datetime]
    work_queue: WorkQueueTimer

    async def flush(self) -> None:
        """Publish staged events now; if the broker is down the relay retries later."""
        try:
            await self.runtime.outbox.flush()
        except Exception as exc:
            log.warning("outbox flush deferred to the relay", error=type(exc).__name__)


def router_context(request: Request) -> RouterContext:
    ctx: Any = request.app.state.router
    assert isinstance(ctx, RouterContext)
    return ctx


def not_found(what: str, ident: object) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", f"There is no {what} {str(ident)!r}.")


def visible(principal: Principal, row: Any, what: str, ident: object) -> Any:
    """The row if it exists in one of the caller's tenants, else 404 (no existence leak)."""
    if row is None or not principal.can_see(row["tenant"]):
        raise not_found(what, ident)
    return row


def public(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row as JSON-ready values (for responses and ``config.changed`` snapshots)."""
    if row is None:
        return None
    encoded: dict[str, Any] = jsonable_encoder(row)
    return encoded
