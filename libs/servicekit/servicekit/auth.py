"""Admin API security: HS256 bearer JWTs with a role and a tenant scope.

Roles are ordered viewer < operator < manager < admin. ``tenants`` is a list of tenant
slugs or ``["*"]``. Every route declares the least role it needs, and every query is
scoped with ``Principal.require_tenant`` / ``Principal.tenant_filter``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.problems import ProblemError


class Role(IntEnum):
    viewer = 1
    operator = 2
    manager = 3
    admin = 4


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    tenants: tuple[str, ...]

    @property
    def all_tenants(self) -> bool:
        return "*" in self.tenants

    def can_see(self, tenant: str) -> bool:
        return self.all_tenants or tenant in self.tenants

    def require_tenant(self, tenant: str) -> None:
        if not self.can_see(tenant):
            raise ProblemError(
                403, "forbidden", "Forbidden", f"This token is not allowed for tenant {tenant!r}."
            )

    def require_all_tenants(self, what: str) -> None:
        """Global resources (tiers, creating tenants) affect every tenant: a token scoped
        to some tenants must not touch them, whatever its role."""
        if not self.all_tenants:
            raise ProblemError(
                403,
                "forbidden",
                "Forbidden",
                f"{what} needs a token whose 'tenants' claim is ['*'].",
            )

    def require_role(self, role: Role) -> None:
        if self.role < role:
            raise ProblemError(
                403,
                "forbidden",
                "Forbidden",
                f"This action needs role {role.name!r} or higher; "
                f"the token has {self.role.name!r}.",
            )

    def tenant_filter(self) -> tuple[str, ...] | None:
        """None means every tenant; otherwise restrict queries to these slugs."""
        return None if self.all_tenants else self.tenants


def mint_token(secret: str, *, sub: str, role: str, tenants: list[str], ttl_s: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": sub, "role": role, "tenants": tenants, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm="HS256")


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="leadflow-admin"'},
    )


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The token has expired; mint a new one.") from None
    except jwt.PyJWTError:
        raise _unauthorized("The token is not valid for this service.") from None
    try:
        role = Role[str(claims.get("role"))]
    except KeyError:
        raise _unauthorized("The token's role is unknown.") from None
    tenants = claims.get("tenants")
    if not isinstance(tenants, list) or not all(isinstance(t, str) for t in tenants):
        raise _unauthorized("The token's 'tenants' claim must be a list of slugs or ['*'].")
    return Principal(sub=str(claims["sub"]), role=role, tenants=tuple(tenants))


_bearer = HTTPBearer(auto_error=False)


def principal_dependency(secret_of: Callable[[Request], str]) -> Any:
    async def principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("Send 'Authorization: Bearer <token>'.")
        return decode_token(secret_of(request), credentials.credentials)

    return principal


def _secret_from_state(request: Request) -> str:
    secret: str = request.app.state.jwt_secret
    return secret


current_principal = principal_dependency(_secret_from_state)


def require(role: Role, *, all_tenants: str | None = None) -> Any:
    """A FastAPI dependency: the caller's principal, with at least ``role``; with
    ``all_tenants`` (what the route does, for the 403) also a token for every tenant."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        principal.require_role(role)
        if all_tenants is not None:
            principal.require_all_tenants(all_tenants)
        return principal

    return Depends(dependency)
