"""A small client of the services' public APIs: bearer tokens minted per role and tenant,
Standard Webhooks signatures made by the official package, problems turned into errors
that say which call failed."""

from __future__ import annotations

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
        **kwargs: Any,
    ) -> httpx.Response:
        headers = self.headers(role, [tenant] if tenant else None) | kwargs.pop("headers", {})
        response = await self.http.request(
            method, self.urls[service] + path, headers=headers, **kwargs
        )
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
        url = f"{self.urls['ingest']}/v1/webhooks/{slug}/{source}"
        return await self.http.post(url, content=raw, headers=headers)
