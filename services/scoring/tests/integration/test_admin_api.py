"""The admin API's contract: roles and tenant scope, readable 422s, versions, preview."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from leadflow_scoring.app import create_app
from leadflow_scoring.domain.defaults import default_rule_set
from leadflow_scoring.settings import Settings


def test_admin_api_contract(ready: Settings, kit: Any, unique: str) -> None:
    tenant = f"api-{unique}"
    url = f"/v1/tenants/{tenant}/scoring"
    manager, viewer = kit.auth("manager", [tenant]), kit.auth("viewer", [tenant])
    outsider = kit.auth("admin", [f"other-{unique}"])
    spec = default_rule_set().model_dump(mode="json")
    with TestClient(create_app(ready)) as client:
        # Before any change: the shipped default, as version 1, not yet stored.
        current = client.get(url, headers=viewer).json()
        assert (current["version"], current["valid"], current["created_at"]) == (1, True, None)
        assert current["rules"] == spec["rules"]
        listed = client.get(f"{url}/versions", headers=viewer).json()
        assert (listed["current"], [v["version"] for v in listed["versions"]]) == (1, [1])

        # Auth: no token, wrong tenant, too little role.
        assert client.get(url).status_code == 401
        assert client.get(url, headers=outsider).status_code == 403
        assert client.put(url, json=spec, headers=viewer).status_code == 403
        assert client.put(url, json=spec, headers=outsider).status_code == 403

        # 422 names the offending rule and the path the manager wrote.
        broken = {**spec, "rules": [*spec["rules"][:3], {
            "id": "bad-regex", "description": "x", "category": "fit", "points": 5,
            "condition": {"kind": "regex", "field": "title", "pattern": "(vp"}}]}  # fmt: skip
        refused = client.put(url, json=broken, headers=manager)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        [error] = problem["errors"]
        assert (error["field"], error["rule_id"]) == ("rules[3].condition.pattern", "bad-regex")
        assert error["message"] == "invalid regex: missing ): (vp"
        assert problem["detail"].startswith("rules[3].condition.pattern (rule 'bad-regex')")
        assert client.put(url, json={**spec, "threshold": 101}, headers=manager).status_code == 422
        assert client.get(f"{url}/versions", headers=viewer).json()["current"] == 1

        # PUT of the unchanged default stores nothing; a real change makes version 2.
        assert client.put(url, json=spec, headers=manager).status_code == 200
        changed = client.put(url, json={**spec, "threshold": 40}, headers=manager)
        assert changed.status_code == 201, changed.text
        assert changed.json()["created_by"] == "test-manager"
        listed = client.get(f"{url}/versions", headers=viewer).json()
        assert [v["version"] for v in listed["versions"]] == [2, 1]
        assert listed["versions"][1]["created_by"] == "system:default"
        v1 = client.get(f"{url}/versions/1", headers=viewer).json()
        assert (v1["threshold"], v1["rules"]) == (60, spec["rules"])
        assert client.get(url, headers=viewer).json()["threshold"] == 40
        missing = client.get(f"{url}/versions/9", headers=viewer)
        assert (missing.status_code, missing.json()["status"]) == (404, 404)

        # Preview: ids optional; version selectable; unknown version 404; bad lead 422.
        preview_url = f"/v1/tenants/{tenant}/score:preview"
        lead = {"source": "generic", "email": "a@gmail.com", "title": "CTO", "company_size": 80}
        now = client.post(preview_url, json=lead, headers=viewer).json()
        then = client.post(f"{preview_url}?version=1", json=lead, headers=viewer).json()
        # fit: CTO 30 + size 10 - free mail 10 = 30; engagement 0; 60/40 weights -> 18
        assert (now["scored"]["score"], now["scored"]["rules_version"]) == (18, 2)
        assert (then["scored"]["threshold"], then["scored"]["rules_version"]) == (60, 1)
        assert now["raw"] == {"fit": 30, "engagement": 0}
        assert client.post(f"{preview_url}?version=7", json=lead, headers=viewer).status_code == 404
        bad = client.post(preview_url, json={**lead, "country": "Germany"}, headers=viewer)
        assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "country")
        assert client.post(preview_url, json=lead, headers=outsider).status_code == 403
        assert client.get("/v1/tenants/Not_A_Slug/scoring", headers=viewer).status_code == 422
