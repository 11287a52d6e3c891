"""``POST /v1/webhooks/{tenant}/{source}`` — the signed-webhook gateway.

A pipeline of checks, in order: 415 content type → 413 size (read with a hard limit) →
401 Standard Webhooks signature (one uniform body for every authentication failure) →
400 JSON → 422 what the pipeline cannot carry (NUL, nesting deeper than 32, integers
beyond 64 bits) and the source schema (+ usable email or phone) → replay guard (200
duplicate) → 429 rate/quota → publish and wait for the broker's ack (503) → 202. Each
check raises what it found wrong; ``api.refusals`` is the one table from a refusal to its
outcome label and problem.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from servicekit.inputs import dotted, json_problem
from servicekit.logging import bind_event_context, get_logger
from starlette.datastructures import Headers

from leadflow_ingest.api.body import read_limited
from leadflow_ingest.api.context import IngestContext, ingest_context
from leadflow_ingest.api.refusals import (
    REFUSALS,
    MalformedJson,
    Refusing,
    UnsupportedMediaType,
    answer,
)
from leadflow_ingest.domain.normalize import UnusableLead, normalize, parse_body
from leadflow_ingest.domain.signatures import (
    SignatureInvalid,
    SigningKey,
    WebhookHeaders,
    new_secret,
    verify,
)
from leadflow_ingest.domain.sources.adapter import SourceAdapter
from leadflow_ingest.domain.sources.registry import ADAPTERS, adapter_for, inline_schema
from leadflow_ingest.domain.tenancy import TenantConfig
from leadflow_ingest.metrics import UNKNOWN

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"])
#: The one route that carries the load; the app serves it past routing (``hot_routes``).
WEBHOOK_PATH = "/v1/webhooks/{tenant}/{source}"
#: Verified against for unknown tenants and sources; no one knows the key (it is
#: random per process), so a match is impossible and the answer stays 401.
DECOY_KEYS = (SigningKey(uuid.UUID(int=0), new_secret()[1]),)

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


@dataclass(frozen=True)
class Authenticated:
    """A webhook whose signature matched one of its tenant's keys for its source."""

    tenant: TenantConfig
    adapter: SourceAdapter
    webhook_id: str
    key: SigningKey


def require_json(headers: Headers) -> None:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType()


def authenticate(
    ctx: IngestContext,
    tenant: TenantConfig | None,
    source: str,
    headers: Headers,
    raw: bytes,
    now: datetime,
) -> Authenticated:
    signed = WebhookHeaders(
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    )
    keys = tenant.keys.get(source) if tenant is not None else None
    adapter = adapter_for(source)
    tolerance_s = ctx.settings.webhook_tolerance_s
    try:
        if tenant is None or keys is None or adapter is None:
            # The same checks and HMAC as for a known source, so the time of the 401
            # does not tell which tenants and sources exist.
            verify(signed, raw, DECOY_KEYS, now=now, tolerance_s=tolerance_s)
            raise SignatureInvalid("unknown tenant or source")
        key = verify(signed, raw, keys, now=now, tolerance_s=tolerance_s)
    except SignatureInvalid as exc:
        log.info(
            "webhook unauthorized",
            tenant=tenant.slug if tenant is not None else UNKNOWN,
            source=source if keys is not None else UNKNOWN,
            reason=str(exc),
        )
        raise
    assert signed.webhook_id is not None  # verify refuses a missing one
    return Authenticated(tenant, adapter, signed.webhook_id, key)


def parse_lead(raw: bytes, webhook: Authenticated, source: str, now: datetime) -> dict[str, Any]:
    """The body as JSON, refused (``UnusableLead``) unless it can become a lead."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedJson() from None
    if not isinstance(body, dict):
        raise UnusableLead([("", "the payload must be a JSON object")])
    # What jsonb, the envelope's parser or the outbox could not carry is refused
    # here: accepting it would lose it later (dead letter, or a 503 forever).
    uncarriable = json_problem(body)
    if uncarriable is not None:
        raise UnusableLead([(dotted(uncarriable[0]), uncarriable[1])])
    # The worker runs the same normalization; refusing here keeps garbage off the topic.
    normalize(
        parse_body(webhook.adapter, body),
        lead_id=uuid.UUID(int=0),
        tenant_id=webhook.tenant.slug,
        source=source,
        default_region=webhook.tenant.default_region,
        received_at=now,
    )
    return body


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
    WEBHOOK_PATH,
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
    known_source = config is not None and source in config.keys
    labels = (tenant if config else UNKNOWN, source if known_source else UNKNOWN)
    now = ctx.clock()
    settings = ctx.settings
    try:
        require_json(request.headers)
        raw = await read_limited(request, settings.webhook_max_body_bytes)
        webhook = authenticate(ctx, config, source, request.headers, raw, now)
        body = parse_lead(raw, webhook, source, now)
        accepted = await ctx.acceptor.accept(webhook.tenant, source, webhook.webhook_id, body, now)
    except REFUSALS as exc:
        refusing = Refusing(
            source=source,
            tier=config.tier if config is not None else None,
            max_body_bytes=settings.webhook_max_body_bytes,
            retry_after_s=settings.unavailable_retry_after_s,
        )
        outcome, problem = answer(exc, refusing)
        ctx.metrics.webhook(*labels, outcome)
        raise problem from None
    outcome = "duplicate" if accepted.duplicate else "accepted"
    ctx.metrics.webhook(*labels, outcome)
    with bind_event_context(
        correlation_id=webhook.webhook_id, tenant_id=webhook.tenant.slug, lead_id=accepted.lead_id
    ):
        log.debug("webhook answered", source=source, outcome=outcome)  # no-op at INFO
    if accepted.duplicate:
        return _answer("duplicate", accepted.lead_id, webhook.webhook_id, 200)
    try:
        await ctx.secret_use.touch(webhook.key.secret_id, now)
    except Exception as exc:  # bookkeeping only; the webhook is accepted
        log.warning("could not record secret use", error=type(exc).__name__)
    return _answer("accepted", accepted.lead_id, webhook.webhook_id, 202)


@router.get("/v1/sources", tags=["sources"], summary="Supported sources and their JSON Schemas")
async def list_sources() -> list[dict[str, Any]]:
    return [
        {"source": name, "description": a.description, "schema": a.model.model_json_schema()}
        for name, a in ADAPTERS.items()
    ]
