"""Sign in (paste a token, or in dev mode "sign in as"), sign out, switch tenant.

Before a session exists the sign-in forms are protected by a double-submit token: a
random value in a SameSite=Strict cookie that the form must repeat.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from servicekit.auth import mint_token

from leadflow_console.session import COOKIE, ROLES, NotSignedIn, read_claims
from leadflow_console.view import TENANT_COOKIE, Console, CsrfRefused, console_of, open_view

router = APIRouter()
PRE = "leadflow_pre"
REASON = "leadflow_signin_reason"


def _page(request: Request, console: Console, message: str | None, status: int = 200) -> Response:
    pre = request.cookies.get(PRE) or secrets.token_urlsafe(24)
    response = console.templates.TemplateResponse(
        request,
        "sign_in.html",
        {"pre": pre, "message": message, "dev_mode": console.dev_mode, "roles": ROLES},
        status_code=status,
    )
    response.set_cookie(PRE, pre, httponly=True, samesite="strict", secure=console.secure_cookies)
    response.delete_cookie(REASON)
    return response


def _check_pre(request: Request, presented: str) -> None:
    cookie = request.cookies.get(PRE) or ""
    if not cookie or not hmac.compare_digest(cookie, presented):
        raise CsrfRefused()


def _signed_in(console: Console, token: str) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        console.codec.seal(token),
        httponly=True,
        samesite="strict",
        secure=console.secure_cookies,
        path="/",
    )
    response.delete_cookie(PRE)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    return _page(request, console_of(request), request.cookies.get(REASON))


@router.post("/sign-in")
async def sign_in(
    request: Request, token: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    _check_pre(request, csrf)
    console = console_of(request)
    try:
        read_claims(token.strip())
    except NotSignedIn as exc:
        return _page(request, console, exc.reason or "Paste a token.", status=422)
    return _signed_in(console, token.strip())


@router.post("/sign-in-as")
async def sign_in_as(
    request: Request,
    role: Annotated[str, Form()],
    tenants: Annotated[str, Form()] = "*",
    name: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Dev mode only: mint a token for a role and tenants (the services' dev secret)."""
    _check_pre(request, csrf)
    console = console_of(request)
    if not console.dev_mode or console.jwt_secret is None or role not in ROLES:
        return _page(request, console, "Signing in as someone is for dev mode only.", 403)
    slugs = [t.strip() for t in tenants.replace(",", " ").split() if t.strip()] or ["*"]
    token = mint_token(
        console.jwt_secret,
        sub=name.strip() or f"console-{role}",
        role=role,
        tenants=slugs,
        ttl_s=console.dev_token_ttl_s,
    )
    return _signed_in(console, token)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await open_view(request)  # checks the CSRF token
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(TENANT_COOKIE, path="/")
    return response


@router.post("/tenant")
async def switch_tenant(
    request: Request, tenant: Annotated[str, Form()], back: Annotated[str, Form()] = "/"
) -> Response:
    view = await open_view(request)
    local = back.startswith("/") and not back.startswith("//")  # never an open redirect
    response = RedirectResponse(back if local else "/", status_code=303)
    if tenant in view.tenants:
        response.set_cookie(TENANT_COOKIE, tenant, httponly=True, samesite="strict", path="/")
    return response
