"""What every page handler works with: the session, the chosen tenant, the services
(each call recording an outage for the banner instead of failing the page) and the
template renderer. Handlers stay thin: read, call a service, render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leadflow_console.problems import FormErrors, map_problem
from leadflow_console.session import COOKIE, NotSignedIn, Session, SessionCodec
from leadflow_console.upstream import Refused, ServiceDown, Upstreams

TENANT_COOKIE = "leadflow_tenant"

#: Messages a redirect after a successful change may show (by key: nothing reflected).
NOTICES = {
    "rules-saved": "Routing rules saved as a new version.",
    "tier-saved": "Tier saved.",
    "tenant-moved": "Tenant assigned to the tier.",
    "secret-revoked": "Secret revoked: webhooks signed with it are refused from now on.",
    "replayed": "Dead letter replayed to its original topic.",
    "discarded": "Dead letter discarded.",
    "presence": "Presence changed.",
    "rep-saved": "Rep saved.",
    "claimed": "Work item claimed.",
    "assigned": "Work item assigned.",
    "scoring-saved": "Scoring rules saved.",
}


@dataclass
class Console:
    """What ``create_app`` builds once and keeps on ``app.state.console``."""

    upstreams: Upstreams
    codec: SessionCodec
    templates: Jinja2Templates
    dev_mode: bool
    jwt_secret: str | None
    secure_cookies: bool
    dev_token_ttl_s: int


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


@dataclass
class View:
    request: Request
    console: Console
    session: Session
    cookie: str
    tenants: list[str]
    tenant: str | None
    down: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)

    @property
    def csrf(self) -> str:
        return self.console.codec.csrf(self.cookie)

    def can(self, role: str) -> bool:
        return self.session.at_least(role)

    async def get(self, service: str, path: str, default: Any = None, **params: Any) -> Any:
        """A read; an outage or refusal yields ``default`` (the banner says why)."""
        try:
            return await self.console.upstreams.call(
                service, "GET", path, self.session.token, params=params or None
            )
        except ServiceDown as exc:
            self.down[service] = exc.reason
        except Refused as exc:
            self.errors.general.append(_refusal_text(exc))
        return default

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        body: Any = None,
        fields: Mapping[str, str] | None = None,
    ) -> tuple[bool, Any]:
        """A change: (True, answer), or (False, None) with ``errors`` filled in."""
        try:
            answer = await self.console.upstreams.call(
                service, method, path, self.session.token, json=body
            )
        except ServiceDown as exc:
            self.down[service] = exc.reason
            wait = f" Try again in {exc.retry_after} s." if exc.retry_after else ""
            self.errors.general.append(f"Nothing was changed: {service} is unavailable.{wait}")
            return False, None
        except Refused as exc:
            mapped = map_problem(exc.problem, fields or {})
            self.errors.fields.update(mapped.fields)
            self.errors.general.extend(mapped.general)
            return False, None
        return True, answer

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        notice = NOTICES.get(self.request.query_params.get("done", ""))
        context |= {"v": self, "notice": notice, "page": template.removesuffix(".html")}
        return self.console.templates.TemplateResponse(
            self.request, template, context, status_code=status
        )

    def redirect(self, path: str, done: str | None = None) -> Response:
        return see_other(f"{path}?done={done}" if done else path, self.request)


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's text fields (the console takes no uploads)."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _refusal_text(exc: Refused) -> str:
    title = exc.problem.get("title") or f"HTTP {exc.status}"
    detail = exc.problem.get("detail")
    return f"{exc.service}: {title}" + (f" — {detail}" if detail else "")


def see_other(path: str, request: Request) -> Response:
    """A redirect after POST; htmx follows ``HX-Redirect`` with a full page load."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=303)


async def _tenants(console: Console, session: Session) -> tuple[list[str], str | None]:
    """The tenants the token may see: its list, or (for ``*``) what ingest lists."""
    if not session.all_tenants:
        return sorted(session.tenants), None
    try:
        rows = await console.upstreams.call("ingest", "GET", "/v1/tenants", session.token)
    except ServiceDown as exc:
        return [], exc.reason
    except Refused:
        return [], None
    return sorted(r["slug"] for r in rows), None


async def open_view(request: Request) -> View:
    """The signed-in user's view of this request, or ``NotSignedIn``; a POST must carry
    the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``)."""
    console = console_of(request)
    cookie = request.cookies.get(COOKIE)
    session = console.codec.open(cookie)
    assert cookie is not None
    if request.method == "POST":
        presented = request.headers.get("x-csrf-token")
        if presented is None:
            form = await request.form()
            value = form.get("csrf")
            presented = value if isinstance(value, str) else None
        if not console.codec.csrf_ok(cookie, presented):
            raise CsrfRefused()
    tenants, down = await _tenants(console, session)
    wanted = request.query_params.get("tenant") or request.cookies.get(TENANT_COOKIE)
    tenant = wanted if wanted in tenants else (tenants[0] if tenants else None)
    view = View(request, console, session, cookie, tenants, tenant)
    if down:
        view.down["ingest"] = down
    return view


class CsrfRefused(Exception):
    """A form without this session's CSRF token (another site's, or a stale page)."""


__all__ = ["COOKIE", "Console", "CsrfRefused", "NotSignedIn", "View", "open_view", "see_other"]
