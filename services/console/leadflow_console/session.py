"""The signed-in user's session: the bearer token, Fernet-encrypted in an HttpOnly,
SameSite=Strict cookie, plus a CSRF token derived from it.

The console reads the token's claims (role, tenants, expiry) only to decide what to
show; it does not verify the signature — every service does that on every call, so a
forged cookie gets nothing the token would not. The CSRF token is an HMAC of the
session cookie: a form posted from another site cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import jwt
from cryptography.fernet import Fernet, InvalidToken

COOKIE = "leadflow_session"
ROLES = ("viewer", "operator", "manager", "admin")


class NotSignedIn(Exception):
    """No session, an unreadable one, or an expired token: go to sign-in with ``reason``."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Session:
    token: str
    sub: str
    role: str
    tenants: tuple[str, ...]
    expires_at: int

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def all_tenants(self) -> bool:
        return "*" in self.tenants


def read_claims(token: str, now: float | None = None) -> Session:
    """The claims of a pasted token, or ``NotSignedIn`` saying what is wrong with it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise NotSignedIn("That is not a Leadflow token (a JWT).") from None
    role, tenants, exp = claims.get("role"), claims.get("tenants"), claims.get("exp")
    if role not in ROLES or not isinstance(tenants, list) or not isinstance(exp, int):
        raise NotSignedIn("The token lacks a role, tenants or an expiry.")
    if exp <= (time.time() if now is None else now):
        raise NotSignedIn("Your token has expired; sign in again.")
    return Session(token, str(claims.get("sub", "")), role, tuple(map(str, tenants)), exp)


class SessionCodec:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._mac_key = hashlib.sha256(b"csrf:" + key).digest()

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, cookie: str | None) -> Session:
        if not cookie:
            raise NotSignedIn()
        try:
            token = self._fernet.decrypt(cookie.encode()).decode()
        except InvalidToken:
            raise NotSignedIn("Your session is no longer valid; sign in again.") from None
        return read_claims(token)

    def csrf(self, cookie: str) -> str:
        return hmac.new(self._mac_key, cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, cookie: str | None, presented: str | None) -> bool:
        return bool(cookie and presented) and hmac.compare_digest(
            self.csrf(cookie or ""), presented or ""
        )
