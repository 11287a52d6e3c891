"""Every refusal of the webhook endpoint: its status and its problem type."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings

PROBLEMS = "https://leadflow.dev/problems/"
GHL_EXAMPLE = (
    Path(__file__).resolve().parents[4]
    / "contracts/leadflow_contracts/examples/lead.received.v1.json"
)


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + slug
    return body


def test_every_error_case_has_its_status_and_problem_type(
    ready: Settings, kit: Any, make_slug: Any, clock: Any
) -> None:
    settings = ready.model_copy(
        update={"webhook_max_body_bytes": 2048, "metrics_tenant_labels": True}
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        a = kit.provision(client, make_slug("a"))
        b = kit.provision(client, make_slug("b"))
        ok = {"email": "x@corp.example"}

        def post(url: str, body: Any = ok, **sign: Any) -> Any:
            extra = sign.pop("headers", {})
            raw, headers = kit.signed(sign.pop("secret", a.secret), body, at=clock.now, **sign)
            headers.update(extra)
            return client.post(url, content=raw, headers=headers)

        # 401: every authentication failure looks the same.
        raw, good = kit.signed(a.secret, ok, at=clock.now)
        unauthorized = [
            post(f"/v1/webhooks/nobody-{a.slug}/generic"),  # unknown tenant
            post(f"/v1/webhooks/{a.slug}/ghl"),  # source not configured for tenant
            post(f"/v1/webhooks/{a.slug}/nope"),  # no such adapter
            post(b.url),  # tenant A's secret on tenant B's URL
            post(a.url, secret=b.secret),  # wrong secret
            client.post(a.url, content=raw, headers={**good, "webhook-signature": "v1,AAAA"}),
            client.post(a.url, content=raw + b" ", headers=good),  # body changed after signing
            client.post(
                a.url,
                content=raw,
                headers={k: v for k, v in good.items() if k != "webhook-timestamp"},
            ),
            client.post(a.url, content=raw, headers={**good, "webhook-timestamp": "yesterday"}),
        ]
        clock.now += timedelta(seconds=301)  # signed 301 s ago
        unauthorized.append(client.post(a.url, content=raw, headers=good))
        clock.now -= timedelta(seconds=602)  # signed 301 s in the future
        unauthorized.append(client.post(a.url, content=raw, headers=good))
        clock.now += timedelta(seconds=301)
        bodies = [_problem(r, 401, "webhook-unauthorized") for r in unauthorized]
        assert len({json.dumps({**b, "instance": None}) for b in bodies}) == 1
        # 300 s is still inside the tolerance.
        clock.now += timedelta(seconds=300)
        assert client.post(a.url, content=raw, headers=good).status_code == 202
        clock.now -= timedelta(seconds=300)

        # 415 / 413 (declared and undeclared/chunked) / 400 / 422
        _problem(post(a.url, headers={"content-type": "text/plain"}), 415, "unsupported-media-type")
        big = {"email": "x@corp.example", "custom": {"pad": "x" * 3000}}
        _problem(post(a.url, big), 413, "payload-too-large")
        raw_big, headers_big = kit.signed(a.secret, big, at=clock.now)
        chunks = (raw_big[i : i + 512] for i in range(0, len(raw_big), 512))
        _problem(client.post(a.url, content=chunks, headers=headers_big), 413, "payload-too-large")
        _problem(post(a.url, b"{not json"), 400, "malformed-json")
        invalid = _problem(
            post(a.url, {"email": 5, "company_size": -1, "emial": "typo"}),
            422,
            "validation-error",
        )
        fields = {e["field"] for e in invalid["errors"]}
        assert {"body.email", "body.company_size", "body.emial"} <= fields
        unusable = _problem(post(a.url, {"email": "not-an-email"}), 422, "validation-error")
        assert {e["field"] for e in unusable["errors"]} == {"body.email", "body.phone"}
        _problem(post(a.url, [ok]), 422, "validation-error")

        metrics = client.get("/metrics").text
        assert 'webhooks_total{outcome="unauthorized",source="_unknown",tenant="_unknown"} 1.0' in (
            metrics
        )
        for outcome in ("unauthorized", "too_large", "unsupported_media_type", "invalid"):
            assert f'outcome="{outcome}",source="generic",tenant="{a.slug}"' in metrics


def test_ghl_payload_is_accepted_and_sources_are_published(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    with TestClient(create_app(ready)) as client:
        crm = kit.provision(client, make_slug("crm"), source="ghl")
        body = json.loads(GHL_EXAMPLE.read_text())["payload"]["body"]
        raw, headers = kit.signed(crm.secret, body)
        assert client.post(crm.url, content=raw, headers=headers).status_code == 202
        raw, headers = kit.signed(crm.secret, {"type": "ContactCreate", "email": "a@b.example"})
        missing = _problem(
            client.post(crm.url, content=raw, headers=headers), 422, "validation-error"
        )
        assert {"body.locationId", "body.id"} <= {e["field"] for e in missing["errors"]}

        sources = {s["source"]: s for s in client.get("/v1/sources").json()}
        assert set(sources) >= {"generic", "ghl"}
        assert "firstName" in sources["ghl"]["schema"]["properties"]
        openapi = client.get("/openapi.json").json()
        webhook = openapi["paths"]["/v1/webhooks/{tenant}/{source}"]["post"]
        variants = webhook["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
        assert any("companyName" in v["properties"] for v in variants)
        assert "/v1/tenants/{slug}/sources/{source}/secrets:rotate" in openapi["paths"]
