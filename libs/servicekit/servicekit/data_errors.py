"""The last line behind ``servicekit.inputs``: a value the database refuses is a 422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from servicekit.logging import get_logger
from servicekit.problems import ProblemError, problem_response

log = get_logger(__name__)


def install_input_backstop(app: FastAPI) -> None:
    """A value the types above missed and the database refused is still the caller's
    fault: answer 422, never 500 (the fuzz suite keeps this handler unused)."""

    async def on_data_error(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database refused a request value", error=type(exc).__name__)
        problem = ProblemError(
            422,
            "validation-error",
            "Request failed validation",
            "A value in the request cannot be stored (out of range or not valid text).",
        )
        return problem_response(problem, request.url.path)

    app.add_exception_handler(DataError, on_data_error)
