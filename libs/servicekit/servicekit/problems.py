"""RFC 9457 problem details for every error an HTTP caller sees."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.commands import Refused
from servicekit.faults import DEPENDENCY_ERRORS, describe, is_infrastructure_fault
from servicekit.logging import get_logger

log = get_logger(__name__)

PROBLEM_BASE = "https://leadflow.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Raise from any route to answer with ``application/problem+json``."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def problem_response(problem: ProblemError, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


def validation_errors(errors: Any) -> list[dict[str, str]]:
    """pydantic errors as ``{"field": "body.email", "message": ...}`` (no input echoed)."""
    return [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "invalid")),
        }
        for error in errors
    ]


def invalid_field(field: str, message: str, title: str, detail: str) -> ProblemError:
    """The 422 ``validation-error`` for one input (``field`` as in ``validation_errors``,
    e.g. ``body.since``) that is well-formed but not acceptable."""
    return ProblemError(
        422, "validation-error", title, detail, errors=[{"field": field, "message": message}]
    )


def unavailable(exc: BaseException, retry_after_s: int) -> ProblemError:
    """The 503 for a dependency outage: what failed (not how), and when to come back."""
    what = describe(exc)
    return ProblemError(
        503,
        "service-unavailable",
        "Service unavailable",
        f"A dependency of this service is unavailable ({what}); nothing was changed. "
        f"Retry after {retry_after_s} s.",
        headers={"Retry-After": str(retry_after_s)},
    )


def refused_problem(refused: Refused) -> ProblemError:
    """A handler's refusal (``servicekit.commands``) as the problem the caller gets."""
    extra: dict[str, Any] = {} if refused.errors is None else {"errors": refused.errors}
    return ProblemError(refused.status, refused.slug, refused.title, refused.detail, **extra)


def install_problem_handlers(app: FastAPI, *, retry_after_s: int = 5) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc, request.url.path)

    async def on_refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refused)
        return problem_response(refused_problem(exc), request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problem = ProblemError(
            422,
            "validation-error",
            "Request failed validation",
            "One or more fields are invalid; see 'errors'.",
            errors=validation_errors(exc.errors()),
        )
        return problem_response(problem, request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        problem = ProblemError(
            exc.status_code,
            f"http-{exc.status_code}",
            str(exc.detail),
            headers=dict(exc.headers or {}),
        )
        return problem_response(problem, request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        """An outage is a 503 with Retry-After; anything else a 500 that says nothing of
        the internals (the log has the exception class, never SQL or its parameters)."""
        if is_infrastructure_fault(exc):
            log.warning(
                "request failed: dependency unavailable",
                path=request.url.path,
                reason=describe(exc),
                error=type(exc).__name__,
            )
            return problem_response(unavailable(exc, retry_after_s), request.url.path)
        log.error("request failed", path=request.url.path, error=type(exc).__name__)
        problem = ProblemError(
            500, "internal-error", "Internal error", "The request failed unexpectedly."
        )
        return problem_response(problem, request.url.path)

    # Registered by class (not as the catch-all ``Exception`` handler, which Starlette
    # re-raises into the server's log with the SQL and its parameters).
    for family in DEPENDENCY_ERRORS:
        app.add_exception_handler(family, on_unexpected)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(Refused, on_refused)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
