"""422s that name the offending rule: ``rules[3].condition.pattern: invalid regex …``.

servicekit's generic handler reports ``body.rules.3.condition.regex.pattern``; routes of
this API use ``ReadableErrorsRoute`` instead, which reports the path a manager wrote
(without the union tag) and the ``rule_id`` of the rule at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from servicekit.problems import ProblemError

from leadflow_scoring.domain.validation import field_path


def problem_for(exc: RequestValidationError) -> ProblemError:
    body = getattr(exc, "body", None)
    rules = body.get("rules") if isinstance(body, dict) else None
    errors: list[dict[str, str]] = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        in_body = bool(loc) and loc[0] == "body"
        path = field_path(loc[1:]) if in_body else ".".join(str(p) for p in loc)
        issue = {
            "field": path,
            "message": str(error.get("msg", "invalid")).removeprefix("Value error, "),
        }
        if in_body and len(loc) >= 3 and loc[1] == "rules" and isinstance(loc[2], int):
            rule = rules[loc[2]] if isinstance(rules, list) and loc[2] < len(rules) else None
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                issue["rule_id"] = rule["id"]
        errors.append(issue)
    first = errors[0] if errors else {"field": "", "message": "invalid"}
    where = f" (rule {first['rule_id']!r})" if "rule_id" in first else ""
    return ProblemError(
        422,
        "validation-error",
        "Request failed validation",
        f"{first['field'] or 'body'}{where}: {first['message']}"
        + (f" (and {len(errors) - 1} more; see 'errors')" if len(errors) > 1 else ""),
        errors=errors,
    )


class ReadableErrorsRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise problem_for(exc) from None

        return route
