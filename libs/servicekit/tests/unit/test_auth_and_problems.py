"""Admin auth (JWT roles and tenant scope) and RFC 9457 errors, through a real FastAPI app."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from servicekit.auth import Principal, Role, mint_token, require
from servicekit.problems import PROBLEM_JSON, ProblemError, install_problem_handlers
from servicekit.settings import ServiceSettings

SECRET = "unit-test-secret-0123456789abcdef"


class Body(BaseModel):
    name: str
    size: int


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.state.jwt_secret = SECRET
    install_problem_handlers(app)

    @app.get("/v1/tenants/{slug}")
    async def read(
        slug: str, principal: Annotated[Principal, require(Role.viewer)]
    ) -> dict[str, str]:
        principal.require_tenant(slug)
        return {"slug": slug, "sub": principal.sub}

    @app.post("/v1/tenants/{slug}")
    async def change(
        slug: str,
        body: Body,
        principal: Annotated[Principal, require(Role.manager)],
    ) -> dict[str, str]:
        principal.require_tenant(slug)
        if body.size > 10:
            raise ProblemError(409, "too-big", "Too big", "size must be at most 10", limit=10)
        return {"ok": "yes"}

    return TestClient(app)


def _auth(role: str, tenants: list[str], secret: str = SECRET, ttl: int = 60) -> dict[str, str]:
    token = mint_token(secret, sub="tester", role=role, tenants=tenants, ttl_s=ttl)
    return {"Authorization": f"Bearer {token}"}


def test_missing_bad_and_expired_tokens_are_401_problems(client: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-a-jwt"},
        _auth("admin", ["*"], secret="another-secret-0123456789abcdef-x"),
        _auth("admin", ["*"], ttl=-10),
        _auth("superuser", ["*"]),
    ):
        response = client.get("/v1/tenants/acme", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["type"] == "https://leadflow.dev/problems/unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_role_and_tenant_scope(client: TestClient) -> None:
    assert client.get("/v1/tenants/acme", headers=_auth("viewer", ["acme"])).status_code == 200
    assert client.get("/v1/tenants/other", headers=_auth("viewer", ["acme"])).status_code == 403
    assert client.get("/v1/tenants/other", headers=_auth("viewer", ["*"])).status_code == 200
    body = {"name": "x", "size": 1}
    viewer = client.post("/v1/tenants/acme", json=body, headers=_auth("viewer", ["acme"]))
    assert viewer.status_code == 403
    assert "manager" in viewer.json()["detail"]
    manager = client.post("/v1/tenants/acme", json=body, headers=_auth("manager", ["acme"]))
    assert manager.status_code == 200
    other = client.post("/v1/tenants/beta", json=body, headers=_auth("manager", ["acme"]))
    assert other.status_code == 403


def test_validation_errors_name_each_field(client: TestClient) -> None:
    response = client.post("/v1/tenants/acme", json={"size": "big"}, headers=_auth("admin", ["*"]))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"body.name", "body.size"}


def test_problem_error_carries_extension_members(client: TestClient) -> None:
    response = client.post(
        "/v1/tenants/acme", json={"name": "x", "size": 11}, headers=_auth("admin", ["*"])
    )
    assert response.status_code == 409
    assert response.json() == {
        "type": "https://leadflow.dev/problems/too-big",
        "title": "Too big",
        "status": 409,
        "detail": "size must be at most 10",
        "instance": "/v1/tenants/acme",
        "limit": 10,
    }


def test_jwt_secret_is_mandatory_outside_dev_mode() -> None:
    with pytest.raises(RuntimeError, match="LEADFLOW_ADMIN_JWT_SECRET"):
        ServiceSettings(dev_mode=False, admin_jwt_secret=None).jwt_secret()
    assert ServiceSettings(dev_mode=True).jwt_secret()
    assert ServiceSettings(admin_jwt_secret="s3cret-value").jwt_secret() == "s3cret-value"
