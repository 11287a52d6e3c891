"""From a refused webhook to its answer: one table, one row per kind of refusal.

Each check of ``receive_webhook`` raises the exception that says what was wrong; this
table turns it into the webhook-outcome label the metrics count and the RFC 9457
problem the sender reads. A new refusal is a new exception and a new row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from servicekit.problems import ProblemError

from leadflow_ingest.api.body import BodyTooLarge
from leadflow_ingest.domain.normalize import UnusableLead
from leadflow_ingest.domain.signatures import SignatureInvalid
from leadflow_ingest.domain.tenancy import TierLimits
from leadflow_ingest.handlers.accept_webhook import DependencyUnavailable, RateLimited

UNAUTHORIZED_DETAIL = (
    "The webhook could not be authenticated. Check the URL (tenant and source), the "
    "webhook-id, webhook-timestamp and webhook-signature headers, the signing secret, "
    "and the sender's clock."
)


class UnsupportedMediaType(Exception):
    """The request does not declare a JSON body."""


class MalformedJson(Exception):
    """The authenticated body does not parse as JSON."""


@dataclass(frozen=True)
class Refusing:
    """What an answer may name: the source, the tenant's tier (None while the tenant is
    unknown) and the service's limits."""

    source: str
    tier: TierLimits | None
    max_body_bytes: int
    retry_after_s: int


#: The outcome label (``ingest_webhooks_total``) and the problem to raise.
Answer = tuple[str, ProblemError]


def _unsupported_media_type(_: UnsupportedMediaType, r: Refusing) -> Answer:
    return "unsupported_media_type", ProblemError(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        "Send the payload as JSON with 'Content-Type: application/json'.",
    )


def _too_large(_: BodyTooLarge, r: Refusing) -> Answer:
    return "too_large", ProblemError(
        413,
        "payload-too-large",
        "Payload too large",
        f"The body exceeds the limit of {r.max_body_bytes} bytes.",
    )


def _unauthorized(_: SignatureInvalid, r: Refusing) -> Answer:
    # One answer for every reason, so a caller learns nothing about tenants and secrets.
    return "unauthorized", ProblemError(
        401, "webhook-unauthorized", "Unauthorized", UNAUTHORIZED_DETAIL
    )


def _malformed(_: MalformedJson, r: Refusing) -> Answer:
    return "malformed", ProblemError(
        400, "malformed-json", "Malformed JSON", "The body is not valid JSON."
    )


def _invalid(exc: UnusableLead, r: Refusing) -> Answer:
    return "invalid", ProblemError(
        422,
        "validation-error",
        "Payload failed validation",
        f"The payload is not a valid '{r.source}' lead; see 'errors'.",
        errors=[
            {"field": ".".join(p for p in ("body", field) if p), "message": message}
            for field, message in exc.problems
        ],
    )


def _rate_limited(exc: RateLimited, r: Refusing) -> Answer:
    assert r.tier is not None  # only a known tenant is counted
    if exc.window == "quota":
        outcome, kind, title = "quota_exceeded", "quota-exceeded", "Monthly quota exceeded"
        allowed = f"{r.tier.monthly_quota} webhooks per month"
    else:
        outcome, kind, title = "rate_limited", "rate-limited", "Rate limit exceeded"
        allowed = f"{r.tier.rate_per_minute} webhooks per minute"
    return outcome, ProblemError(
        429,
        kind,
        title,
        f"The tier '{r.tier.name}' allows {allowed}. Retry after {exc.retry_after_s} s.",
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def _unavailable(exc: DependencyUnavailable, r: Refusing) -> Answer:
    return "unavailable", ProblemError(
        503,
        "service-unavailable",
        "Service unavailable",
        f"The webhook could not be stored durably right now ({exc.reason}) and was "
        f"NOT accepted; retry with the same webhook-id after {r.retry_after_s} s.",
        headers={"Retry-After": str(r.retry_after_s)},
    )


_TABLE: dict[type[Exception], Callable[[Any, Refusing], Answer]] = {
    UnsupportedMediaType: _unsupported_media_type,
    BodyTooLarge: _too_large,
    SignatureInvalid: _unauthorized,
    MalformedJson: _malformed,
    UnusableLead: _invalid,
    RateLimited: _rate_limited,
    DependencyUnavailable: _unavailable,
}

#: For ``except REFUSALS``: every exception the table answers.
REFUSALS = tuple(_TABLE)


def answer(refusal: Exception, refusing: Refusing) -> Answer:
    """The row of ``refusal``'s class (or of the nearest base class in the table)."""
    row = next(_TABLE[cls] for cls in type(refusal).__mro__ if cls in _TABLE)
    return row(refusal, refusing)
