"""The one way the console reaches a service: its HTTP API, with the user's token.

An outage (connection refused, timeout, 5xx) is ``ServiceDown`` — the page shows a
banner and keeps working; a 401 means the services no longer accept the token
(expired, revoked, other secret), which ends the session; any other 4xx is ``Refused``
with the service's problem+json for the form to show.
"""

from __future__ import annotations

from typing import Any

import httpx

from leadflow_console.session import NotSignedIn


class ServiceDown(Exception):
    def __init__(self, service: str, reason: str, retry_after: str | None = None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service, self.reason, self.retry_after = service, reason, retry_after


class Refused(Exception):
    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{service} answered {status}")
        self.service, self.status, self.problem = service, status, problem


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"title": f"HTTP {response.status_code}", "status": response.status_code}


class Upstreams:
    def __init__(self, urls: dict[str, str], timeout_s: float) -> None:
        self.urls = urls
        self._http = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str | None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._http.request(
                method, self.urls[service] + path, headers=headers, json=json, params=params
            )
        except httpx.HTTPError as exc:
            raise ServiceDown(service, f"not reachable ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise ServiceDown(
                service, f"answered {response.status_code}", response.headers.get("retry-after")
            )
        if response.status_code == 401:
            detail = _problem(response).get("detail") or "the token was refused"
            raise NotSignedIn(f"{service} no longer accepts your token ({detail}); sign in again.")
        if response.status_code >= 400:
            raise Refused(service, response.status_code, _problem(response))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def ready(self, service: str) -> tuple[bool, str]:
        """``/readyz`` of a service: (ready, what it says)."""
        try:
            response = await self._http.get(self.urls[service] + "/readyz")
        except httpx.HTTPError as exc:
            return False, f"not reachable ({type(exc).__name__})"
        if response.status_code == 200:
            return True, "ready"
        try:
            checks = response.json().get("checks", {})
            failing = ", ".join(k for k, ok in checks.items() if not ok) or "?"
        except (ValueError, AttributeError):
            failing = f"HTTP {response.status_code}"
        return False, f"not ready: {failing}"
