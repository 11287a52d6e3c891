"""What the routes need, built once by ``create_app`` and kept on ``app.state.router``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from servicekit.commands import flush_outbox
from servicekit.problems import ProblemError, refused_problem
from servicekit.runtime import Runtime

from leadflow_router.adapters.convert import public as public
from leadflow_router.handlers.configure import missing
from leadflow_router.handlers.outcome import RoutingDeps
from leadflow_router.handlers.work_queue import WorkQueueTimer
from leadflow_router.settings import Settings


@dataclass
class RouterContext:
    settings: Settings
    runtime: Runtime
    deps: RoutingDeps
    clock: Callable[[], datetime]
    work_queue: WorkQueueTimer

    async def flush(self) -> None:
        await flush_outbox(self.runtime)


def router_context(request: Request) -> RouterContext:
    ctx: Any = request.app.state.router
    assert isinstance(ctx, RouterContext)
    return ctx


def not_found(what: str, ident: object) -> ProblemError:
    return refused_problem(missing(what, ident))
