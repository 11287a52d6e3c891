"""``POST /v1/webhooks/{tenant}/{source}`` — the signed-webhook gateway.

Checks, in order: 415 content type → 413 size (read with a hard limit) → 401
Standard Webhooks signature (one uniform body for every authentication failure) →
400 JSON → 422 what the pipeline cannot carry (NUL, nesting deeper than 32, integers
beyond 64 bits) and the source schema (+ usable email or phone) → replay guard (200 duplicate)
→ 429 rate/quota → publish and wait for the broker's ack (503) → 202.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from servicekit.inputs import dotted, json_problem
from servicekit.logging import bind_event_context, get_logger
from servicekit.problems import ProblemError

from leadflow_ingest.api.body import BodyTooLarge, read_limited
from leadflow_ingest.api.context import ingest_context
from leadflow_ingest.domain.normalize import UnusableLead, normalize, parse_body
from leadflow_ingest.domain.signatures import (
    SignatureInvalid,
    SigningKey,
    WebhookHeaders,
    new_secret,
    verify,
)
from leadflow_ingest.domain.sources.registry import ADAPTERS, adapter_for, inline_schema
from leadflow_ingest.handlers.accept_webhook import NotDurable, RateLimited
from leadflow_ingest.metrics import UNKNOWN

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"])
#: Verified against for unknown tenants and sources; no one knows the key (it is
#: random per process), so a match is impossible and the answer stays 401.
DECOY_KEYS = (SigningKey(uuid.UUID(int=0), new_secret()[1]),)

UNAUTHORIZED_DETAIL = (
    "The webhook could not be authenticated. Check the URL (tenant and source), the "
    "webhook-id, webhook-timestamp and webhook-signature headers, the signing secret, "
    "and the sender's clock."
)

_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The upstream payload; its schema depends on {source}.",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"title": f"{name}: {a.model.__name__}", **inline_schema(a.model)}
                        for name, a in ADAPTERS.items()
                    ]
                }
            }
        },
    },
    "parameters": [
        {"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
        for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    ],
}


def _answer(status: str, lead_id: uuid.UUID, webhook_id: str, code: int) -> JSONResponse:
    return JSONResponse(
        {
            "status": status,
            "lead_id": str(lead_id),
            "webhook_id": webhook_id,
            "correlation_id": webhook_id,
        },
        status_code=code,
    )


@router.post(
    "/v1/webhooks/{tenant}/{source}",
    status_code=202,
    summary="Receive a signed webhook (Standard Webhooks)",
    openapi_extra=_REQUEST_BODY,
    responses={
        200: {"description": "Duplicate webhook-id: the original lead_id, nothing republished."},
        202: {"description": "Accepted: lead.received is durably on the topic."},
        400: {"description": "Malformed JSON."},
        401: {"description": "Authentication failed (uniform answer)."},
        413: {"description": "Body over the limit."},
        415: {"description": "Not JSON."},
        422: {"description": "Payload violates the source's schema."},
        429: {"description": "Tier rate or monthly quota exhausted (Retry-After)."},
        503: {"description": "Not stored durably in time: broker or database (Retry-After)."},
    },
)
async def receive_webhook(tenant: str, source: str, request: Request) -> JSONResponse:
    ctx = ingest_context(request)
    config = await ctx.tenants.get(tenant)
    keys = config.keys.get(source) if config is not None else None
    labels = (tenant if config else UNKNOWN, source if keys is not None else UNKNOWN)

    def refuse(outcome: str, problem: ProblemError) -> ProblemError:
        ctx.metrics.webhook(*labels, outcome)
        return problem

    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise refuse(
            "unsupported_media_type",
            ProblemError(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the payload as JSON with 'Content-Type: application/json'.",
            ),
        )
    limit = ctx.settings.webhook_max_body_bytes
    try:
        raw = await read_limited(request, limit)
    except BodyTooLarge:
        raise refuse(
            "too_large",
            ProblemError(
                413,
                "payload-too-large",
                "Payload too large",
                f"The body exceeds the limit of {limit} bytes.",
            ),
        ) from None
    headers = WebhookHeaders(
        request.headers.get("webhook-id"),
        request.headers.get("webhook-timestamp"),
        request.headers.get("webhook-signature"),
    )
    now = ctx.clock()
    adapter = adapter_for(source)
    try:
        if config is None or keys is None or adapter is None:
            # The same checks and HMAC as for a known source, so the time of the 401
            # does not tell which tenants and sources exist.
            verify(headers, raw, DECOY_KEYS, now=now, tolerance_s=ctx.settings.webhook_tolerance_s)
            raise SignatureInvalid("unknown tenant or source")
        key = verify(headers, raw, keys, now=now, tolerance_s=ctx.settings.webhook_tolerance_s)
    except SignatureInvalid as exc:
        log.info("webhook unauthorized", tenant=labels[0], source=labels[1], reason=str(exc))
        raise refuse(
            "unauthorized",
            ProblemError(401, "webhook-unauthorized", "Unauthorized", UNAUTHORIZED_DETAIL),
        ) from None
    assert headers.webhook_id is not None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise refuse(
            "malformed",
            ProblemError(400, "malformed-json", "Malformed JSON", "The body is not valid JSON."),
        ) from None
    try:
        if not isinstance(body, dict):
            raise UnusableLead([("", "the payload must be a JSON object")])
        # What jsonb, the envelope's parser or the outbox could not carry is refused
        # here: accepting it would lose it later (dead letter, or a 503 forever).
        uncarriable = json_problem(body)
        if uncarriable is not None:
            raise UnusableLead([(dotted(uncarriable[0]), uncarriable[1])])
        # The worker runs the same normalization; refusing here keeps garbage off the topic.
        normalize(
            parse_body(adapter, body),
            lead_id=uuid.UUID(int=0),
            tenant_id=config.slug,
            source=source,
            default_region=config.default_region,
            received_at=now,
        )
    except UnusableLead as exc:
        raise refuse(
            "invalid",
            ProblemError(
                422,
                "validation-error",
                "Payload failed validation",
                f"The payload is not a valid '{source}' lead; see 'errors'.",
                errors=[
                    {"field": ".".join(p for p in ("body", field) if p), "message": message}
                    for field, message in exc.problems
                ],
            ),
        ) from None
    try:
        accepted = await ctx.acceptor.accept(config, source, headers.webhook_id, body, now)
    except RateLimited as exc:
        quota = exc.window == "quota"
        raise refuse(
            "quota_exceeded" if quota else "rate_limited",
            ProblemError(
                429,
                "quota-exceeded" if quota else "rate-limited",
                "Monthly quota exceeded" if quota else "Rate limit exceeded",
                f"The tier '{config.tier.name}' allows "
                + (
                    f"{config.tier.monthly_quota} webhooks per month."
                    if quota
                    else f"{config.tier.rate_per_minute} webhooks per minute."
                )
                + f" Retry after {exc.retry_after_s} s.",
                headers={"Retry-After": str(exc.retry_after_s)},
            ),
        ) from None
    except NotDurable as exc:
        retry = ctx.settings.unavailable_retry_after_s
        raise refuse(
            "unavailable",
            ProblemError(
                503,
                "service-unavailable",
                "Service unavailable",
                f"The webhook could not be stored durably right now ({exc.reason}) and was "
                f"NOT accepted; retry with the same webhook-id after {retry} s.",
                headers={"Retry-After": str(retry)},
            ),
        ) from None
    outcome = "duplicate" if accepted.duplicate else "accepted"
    ctx.metrics.webhook(*labels, outcome)
    with bind_event_context(
        correlation_id=headers.webhook_id, tenant_id=config.slug, lead_id=accepted.lead_id
    ):
        log.debug("webhook answered", source=source, outcome=outcome)  # no-op at INFO
    if not accepted.duplicate:
        try:
            await ctx.secret_use.touch(key.secret_id, now)
        except Exception as exc:  # bookkeeping only; the webhook is accepted
            log.warning("could not record secret use", error=type(exc).__name__)
        return _answer("accepted", accepted.lead_id, headers.webhook_id, 202)
    return _answer("duplicate", accepted.lead_id, headers.webhook_id, 200)


@router.get("/v1/sources", tags=["sources"], summary="Supported sources and their JSON Schemas")
async def list_sources() -> list[dict[str, Any]]:
    return [
        {"source": name, "description": a.description, "schema": a.model.model_json_schema()}
        for name, a in ADAPTERS.items()
    ]
