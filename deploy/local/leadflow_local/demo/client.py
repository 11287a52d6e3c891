"""A small client of the services' public APIs: bearer tokens minted per role and tenant,
Standard Webhooks signatures made by the official package, problems turned into errors
that say which call failed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from servicekit.auth import mint_token
from standardwebhooks.webhooks import Webhook


class ApiError(RuntimeError):
    """A call answered something else than expected (the message names the call)."""


def signed_headers(
    secret: str | list[str], raw: bytes, *, webhook_id: str, at: datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks headers made by the official package (several secrets → several
    space-separated signatures, as a sender does during rotation)."""
    when = at or datetime.now(UTC)
    secrets = [secret] if isinstance(secret, str) else secret
    signatures = [Webhook(s).sign(webhook_id, when, raw.decode()) for s in secrets]
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


class Client:
    """Calls ``urls[service] + path`` with a token of ``role`` for ``tenant`` (or ``*``)."""

    def __init__(
        self, urls: Mapping[str, str], jwt_secret: str, http: httpx.AsyncClient, *, sub: str
    ) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.jwt_secret = jwt_secret
        self.http = http
        self.sub = sub

    def record(self, response: httpx.Response) -> None:
        """Called with every answer (``record=False`` skips it): a hook for subclasses
        that keep evidence, as the journeys' client does."""

    def headers(self, role: str = "admin", tenants: list[str] | None = None) -> dict[str, str]:
        token = mint_token(
            self.jwt_secret, sub=f"{self.sub}-{role}", role=role, tenants=tenants or ["*"]
        )
        return {"authorization": f"Bearer {token}"}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        role: str = "admin",
        tenant: str | None = None,
        expect: int | tuple[int, ...] | None = None,
        record: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = self.headers(role, [tenant] if tenant else None) | kwargs.pop("headers", {})
        response = await self.http.request(
            method, self.urls[service] + path, headers=headers, **kwargs
        )
        if record:
            self.record(response)
        wanted = (expect,) if isinstance(expect, int) else expect
        if wanted is not None and response.status_code not in wanted:
            raise ApiError(
                f"{service}: {method} {path} answered {response.status_code}, expected "
                f"{' or '.join(map(str, wanted))}: {response.text[:1500]}"
            )
        return response

    async def json(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("expect", (200, 201))
        return (await self.call(service, method, path, **kwargs)).json()

    async def get_or_none(self, service: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a GET, or None when it answers 404."""
        response = await self.call(service, "GET", path, expect=(200, 404), **kwargs)
        return None if response.status_code == 404 else response.json()

    async def post_webhook(
        self,
        slug: str,
        source: str,
        body: dict[str, Any] | bytes,
        *,
        secret: str | list[str],
        webhook_id: str,
        at: datetime | None = None,
        signed_body: bytes | None = None,
    ) -> httpx.Response:
        """POST a webhook signed with ``secret`` (``signed_body`` signs other bytes than
        those sent, as a tampering proxy would)."""
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = signed_headers(
            secret, raw if signed_body is None else signed_body, webhook_id=webhook_id, at=at
        )
        return await self.post_signed(slug, source, raw, headers)

    async def post_signed(
        self, slug: str, source: str, raw: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST ``raw`` with ready-made headers to the tenant's webhook URL."""
        url = f"{self.urls['ingest']}/v1/webhooks/{slug}/{source}"
        response = await self.http.post(url, content=raw, headers=headers)
        self.record(response)
        return response

    # -- the calls the demo and the journeys share ---------------------------------
    async def add_source(self, slug: str, source: str = "generic") -> Any:
        return await self.json(
            "ingest",
            "POST",
            f"/v1/tenants/{slug}/sources",
            json={"source": source},
            role="manager",
            tenant=slug,
            expect=201,
        )

    async def rotate_secret(self, slug: str, source: str, grace_seconds: int) -> Any:
        return await self.json(
            "ingest",
            "POST",
            f"/v1/tenants/{slug}/sources/{source}/secrets:rotate",
            json={"grace_seconds": grace_seconds},
            role="manager",
            tenant=slug,
            expect=201,
        )

    async def ingest_lead(self, slug: str, lead_id: uuid.UUID) -> httpx.Response:
        return await self.call("ingest", "GET", f"/v1/leads/{lead_id}", role="viewer", tenant=slug)

    async def put_scoring(
        self,
        slug: str,
        rules: list[dict[str, Any]],
        *,
        threshold: int,
        weights: dict[str, int] | None = None,
    ) -> Any:
        """A new rule-set version (201); returns the stored version (``version`` …)."""
        body = {
            "rules": rules,
            "weights": weights or {"fit": 50, "engagement": 50},
            "threshold": threshold,
        }
        return await self.json(
            "scoring",
            "PUT",
            f"/v1/tenants/{slug}/scoring",
            json=body,
            role="manager",
            tenant=slug,
            expect=201,
        )

    async def get_scoring(self, slug: str) -> Any:
        return await self.json(
            "scoring", "GET", f"/v1/tenants/{slug}/scoring", role="manager", tenant=slug
        )

    async def set_presence(self, slug: str, rep_id: str, presence: str) -> Any:
        """The rep (an operator token of the tenant) changes their own presence."""
        return await self.json(
            "router",
            "PUT",
            f"/v1/tenants/{slug}/reps/{rep_id}/presence",
            json={"presence": presence},
            role="operator",
            tenant=slug,
        )

    async def put_routing_rules(
        self, slug: str, *, default_team: str, rules: list[dict[str, Any]] | None = None
    ) -> Any:
        body = {"rules": rules or [], "default_team": default_team}
        return await self.json(
            "router",
            "PUT",
            f"/v1/tenants/{slug}/routing-rules",
            json=body,
            role="manager",
            tenant=slug,
        )

    async def ack_assignment(self, slug: str, assignment_id: str) -> Any:
        """The rep (an operator token of the tenant) acknowledges an assignment."""
        path = f"/v1/assignments/{assignment_id}/ack"
        return await self.json("router", "POST", path, role="operator", tenant=slug)

    async def assignments(self, slug: str, **query: Any) -> list[dict[str, Any]]:
        path = f"/v1/tenants/{slug}/assignments"
        rows: list[dict[str, Any]] = await self.json(
            "router", "GET", path, params=query, role="viewer", tenant=slug
        )
        return rows

    async def timeline(self, slug: str, lead_id: uuid.UUID) -> httpx.Response:
        return await self.call(
            "audit", "GET", f"/v1/leads/{lead_id}/timeline", role="viewer", tenant=slug
        )

    async def dead_letters(self, slug: str, **query: Any) -> list[dict[str, Any]]:
        body = await self.json(
            "dlq", "GET", "/v1/dead-letters", params=query, role="operator", tenant=slug
        )
        items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
        return items

    async def replay_dead_letter(self, slug: str, dead_letter_id: str) -> Any:
        return await self.json(
            "dlq",
            "POST",
            f"/v1/dead-letters/{dead_letter_id}:replay",
            role="operator",
            tenant=slug,
        )
