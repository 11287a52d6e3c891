"""An unknown tenant costs what a known one costs: no per-slug query, the same HMAC
check, one uniform 401 — so neither timing nor the database tells which slugs exist."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings
from sqlalchemy import event


def test_unknown_and_known_tenants_take_the_same_lookups(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    settings = ready.model_copy(update={"config_cache_ttl_s": 600.0})
    with TestClient(create_app(settings)) as client:
        tenant = kit.provision(client, make_slug("known"))
        wrong = "whsec_" + "A" * 43 + "="  # a well-formed secret that is not the tenant's

        def post(slug: str) -> Any:
            raw, headers = kit.signed(wrong, {"email": "x@corp.example"})
            return client.post(f"/v1/webhooks/{slug}/generic", content=raw, headers=headers)

        assert post(tenant.slug).status_code == 401  # warms the cache like live traffic
        statements: list[str] = []
        engine = client.app.state.runtime.engine.sync_engine  # type: ignore[attr-defined]

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            known = [post(tenant.slug) for _ in range(5)]
            known_statements = len(statements)
            unknown = [post(make_slug(f"nobody-{i}")) for i in range(5)]
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert known_statements == 0
    assert statements == []  # no per-slug query for made-up tenants
    bodies = {r.text.replace(r.json()["instance"], "") for r in known + unknown}
    assert len(bodies) == 1  # one uniform answer
    assert {r.status_code for r in known + unknown} == {401}
