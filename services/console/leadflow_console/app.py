"""The composition root: ``create_app(settings)`` wires the services' clients, the
session codec and the templates; nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from cryptography.fernet import Fernet
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow_console.pages import auth, billing, home, leads, ops, routing, webhooks
from leadflow_console.session import COOKIE, NotSignedIn, SessionCodec
from leadflow_console.settings import Settings
from leadflow_console.upstream import Upstreams
from leadflow_console.view import Console, CsrfRefused

HERE = Path(__file__).parent
#: htmx 2.0.10 as shipped (and hash-locked) in the django-htmx wheel.
HTMX = files("django_htmx") / "static" / "django_htmx" / "htmx-2.min.js"
REASON_COOKIE = "leadflow_signin_reason"


#: Scripts only from the console itself (htmx, the copy button); inline styles are allowed
#: for the usage bars' widths; no framing, no referrer leaving the site.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
        b"form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class _SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every answer (a plain ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self._app(scope, receive, with_headers if scope["type"] == "http" else send)


def _session_key(settings: Settings) -> bytes:
    if settings.session_key is not None and settings.session_key.get_secret_value():
        return settings.session_key.get_secret_value().encode()
    if settings.dev_mode:
        return Fernet.generate_key()  # sessions end when the console restarts
    raise RuntimeError(
        "LEADFLOW_SESSION_KEY is not set. Set it to a Fernet key "
        '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())") '
        "or set LEADFLOW_DEV_MODE=true for local development only."
    )


def create_app(settings: Settings, *, upstreams: Upstreams | None = None) -> FastAPI:
    clients = upstreams or Upstreams(settings.upstream_urls(), settings.upstream_timeout_s)
    console = Console(
        upstreams=clients,
        codec=SessionCodec(_session_key(settings)),
        templates=Jinja2Templates(directory=HERE / "templates"),
        dev_mode=settings.dev_mode,
        jwt_secret=settings.jwt_secret() if settings.dev_mode else None,
        secure_cookies=settings.secure_cookies,
        dev_token_ttl_s=settings.dev_token_ttl_s,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await clients.close()

    app = FastAPI(title="Leadflow console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.console = console
    app.add_middleware(_SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/assets/htmx.min.js", include_in_schema=False)
    async def htmx() -> FileResponse:
        return FileResponse(str(HTMX), media_type="text/javascript")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "console"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        # Ready as soon as it serves: a service that is down is a banner, not an outage.
        return {"status": "ready"}

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotSignedIn)
        target = "/sign-in"
        response: Response
        if request.headers.get("hx-request"):
            response = Response(status_code=204, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        if exc.reason:
            response.set_cookie(
                REASON_COOKIE, exc.reason[:300], max_age=60, httponly=True, samesite="strict"
            )
        return response

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: Exception) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><title>Refused</title><main><h1>Form refused</h1><p>This form "
            "did not come from your current session (it may be stale or from another "
            'site). Nothing was changed. <a href="/">Back to the console</a></p></main>',
            status_code=403,
        )

    for module in (auth, home, routing, billing, webhooks, leads, ops):
        app.include_router(module.router)
    return app
