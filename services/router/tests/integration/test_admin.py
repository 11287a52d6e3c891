"""The admin API: teams, reps, presence, versioned routing rules, preview, roles and
tenant scoping, validation errors (RFC 9457 with field paths).

``admin`` is a started app and an empty tenant; ``configured`` adds the teams, the rep
and two versions of the routing rules that the routing tests need.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from leadflow_router.app import create_app
from leadflow_router.settings import Settings

DACH = {
    "team_id": "dach",
    "name": "DACH",
    "strategy": "weighted_round_robin",
    "required_skills": ["lang:de"],
}
HOURS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
RULES = {
    "rules": [
        {
            "rule_id": "dach",
            "team_id": "dach",
            "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
        }
    ],
    "default_team": "rest",
}


@dataclass
class Admin:
    client: TestClient
    kit: Any
    slug: str
    base: str
    manager: dict[str, str]
    viewer: dict[str, str]
    rep: dict[str, Any]

    def preview(self, lead: dict[str, Any], **fields: Any) -> dict[str, Any]:
        response = self.client.post(
            f"{self.base}/route:preview",
            json={"lead": lead, "score": 70} | fields,
            headers=self.viewer,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def admin(ready: Settings, kit: Any, make_slug: Any) -> Iterator[Admin]:
    slug = make_slug("admin")
    rep = {
        "rep_id": f"jo-{slug}",
        "name": "Jo",
        "team_ids": ["dach"],
        "skills": ["lang:de"],
        "weight": 3,
        "time_zone": "Europe/Berlin",
        "working_hours": HOURS,
    }
    with TestClient(create_app(ready)) as client:
        yield Admin(
            client,
            kit,
            slug,
            f"/v1/tenants/{slug}",
            kit.auth("manager", [slug]),
            kit.auth("viewer", [slug]),
            rep,
        )


def post_teams(admin: Admin) -> list[httpx.Response]:
    """DACH, then "rest" made account-owner; the response of every call."""
    base, manager = admin.base, admin.manager
    return [
        admin.client.post(f"{base}/teams", json=DACH, headers=manager),
        admin.client.post(f"{base}/teams", json={"team_id": "rest"}, headers=manager),
        admin.client.patch(
            f"{base}/teams/rest", json={"strategy": "account_owner"}, headers=manager
        ),
    ]


def put_rules(admin: Admin) -> list[int]:
    """The same rules twice (versions 1 and 2); the version each call stored."""
    return [
        admin.client.put(f"{admin.base}/routing-rules", json=RULES, headers=admin.manager).json()[
            "version"
        ]
        for _ in range(2)
    ]


@pytest.fixture
def configured(admin: Admin) -> Admin:
    """Teams, the rep (available at any hour) and routing rules at version 2."""
    assert [r.status_code for r in post_teams(admin)] == [201, 201, 200]
    created = admin.client.post(f"{admin.base}/reps", json=admin.rep, headers=admin.manager)
    assert created.status_code == 201, created.text
    always = admin.client.put(
        f"{admin.base}/reps/{admin.rep['rep_id']}",
        json={"working_hours": None},
        headers=admin.manager,
    )
    assert always.status_code == 200, always.text
    assert put_rules(admin) == [1, 2]
    return admin


def test_teams_need_a_token_and_a_manager_of_the_tenant(admin: Admin) -> None:
    client, base = admin.client, admin.base
    assert client.get(f"{base}/teams").status_code == 401
    assert (
        client.post(f"{base}/teams", json={"team_id": "x"}, headers=admin.viewer).status_code == 403
    )
    assert (
        client.get(f"{base}/teams", headers=admin.kit.auth("manager", ["else"])).status_code == 403
    )


def test_teams_are_created_once_patched_and_listed(admin: Admin) -> None:
    dach, rest, changed = post_teams(admin)
    assert (dach.status_code, rest.status_code) == (201, 201)
    assert changed.json()["strategy"] == "account_owner"
    client, base = admin.client, admin.base
    assert client.post(f"{base}/teams", json=DACH, headers=admin.manager).status_code == 409
    assert [t["team_id"] for t in client.get(f"{base}/teams", headers=admin.viewer).json()] == [
        "dach",
        "rest",
    ]


def test_an_invalid_team_is_a_problem_naming_the_field(admin: Admin) -> None:
    bad = admin.client.post(
        f"{admin.base}/teams", json={"team_id": "x", "strategy": "random"}, headers=admin.manager
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["body.strategy"]


def test_a_rep_keeps_its_working_hours_until_they_are_cleared(admin: Admin) -> None:
    post_teams(admin)
    client, base, rep = admin.client, admin.base, admin.rep
    created = client.post(f"{base}/reps", json=rep, headers=admin.manager)
    assert created.status_code == 201, created.text
    assert created.json()["working_hours"]["mon"] == [["09:00", "17:00"]]
    always = client.put(
        f"{base}/reps/{rep['rep_id']}", json={"working_hours": None}, headers=admin.manager
    )
    assert always.json()["working_hours"] is None


def test_a_rep_with_an_unknown_team_zone_or_hours_is_rejected(admin: Admin) -> None:
    post_teams(admin)
    client, base, rep, manager = admin.client, admin.base, admin.rep, admin.manager
    unknown = client.post(
        f"{base}/reps", json=rep | {"rep_id": "x1", "team_ids": ["nope"]}, headers=manager
    )
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "body.team_ids")
    zone = client.post(
        f"{base}/reps", json=rep | {"rep_id": "x2", "time_zone": "Mars/Base"}, headers=manager
    )
    assert zone.status_code == 422
    hours_bad = client.post(
        f"{base}/reps",
        json=rep | {"rep_id": "x3", "working_hours": {"mon": [["9am", "5pm"]]}},
        headers=manager,
    )
    assert hours_bad.status_code == 422


def test_presence_is_set_by_an_operator_of_the_tenant_to_a_known_value(
    configured: Admin,
) -> None:
    admin = configured
    url = f"{admin.base}/reps/{admin.rep['rep_id']}/presence"
    operator, stranger = (admin.kit.auth("operator", t) for t in ([admin.slug], ["else"]))
    away = admin.client.put(url, json={"presence": "away"}, headers=operator)
    assert away.json()["presence"] == "away"
    assert admin.client.put(url, json={"presence": "away"}, headers=stranger).status_code == 403
    busy = admin.client.put(url, json={"presence": "busy"}, headers=admin.manager)
    assert busy.status_code == 422


def test_routing_rules_are_versioned_and_invalid_rules_store_nothing(admin: Admin) -> None:
    post_teams(admin)
    client, base = admin.client, admin.base
    assert client.get(f"{base}/routing-rules", headers=admin.viewer).json()["version"] == 0
    assert put_rules(admin) == [1, 2]
    wrong = client.put(
        f"{base}/routing-rules",
        json={
            "rules": [
                {
                    "rule_id": "r",
                    "team_id": "dach",
                    "conditions": [{"field": "shoe_size", "op": "eq", "value": 1}],
                }
            ]
        },
        headers=admin.manager,
    )
    assert wrong.status_code == 422
    assert client.get(f"{base}/routing-rules", headers=admin.viewer).json()["version"] == 2


def test_preview_routes_by_the_stored_rules(configured: Admin) -> None:
    admin = configured
    german = admin.kit.lead(admin.slug, country="DE").model_dump(mode="json")
    decided = admin.preview(german)
    assert (decided["team_id"], decided["rule_id"], decided["rules_version"]) == (
        "dach",
        "dach",
        2,
    )
    assert (decided["rep_id"], decided["strategy"]) == (admin.rep["rep_id"], "weighted_round_robin")
    french = admin.kit.lead(admin.slug, country="FR").model_dump(mode="json")
    empty = admin.preview(french)
    assert (empty["team_id"], empty["failure"], empty["rep_id"]) == ("rest", "team_empty", None)
    elsewhere = admin.kit.lead("another-tenant", country="DE").model_dump(mode="json")
    wrong = admin.client.post(
        f"{admin.base}/route:preview", json={"lead": elsewhere, "score": 70}, headers=admin.viewer
    )
    assert wrong.status_code == 422, wrong.text
    assert (wrong.json()["title"], wrong.json()["errors"]) == (
        "Wrong tenant",
        [{"field": "body.lead.tenant_id", "message": "does not match the path"}],
    )


def test_preview_of_draft_rules_stores_no_version(configured: Admin) -> None:
    admin = configured
    german = admin.kit.lead(admin.slug, country="DE").model_dump(mode="json")
    draft = {"rules": [{"rule_id": "all-to-rest", "team_id": "rest"}], "default_team": None}
    drafted = admin.preview(german, rules=draft)
    assert (drafted["team_id"], drafted["rule_id"], drafted["rules_version"]) == (
        "rest",
        "all-to-rest",
        "draft",
    )
    versions = admin.client.get(f"{admin.base}/routing-rules/versions", headers=admin.viewer)
    assert [v["version"] for v in versions.json()] == [2, 1]
    assert {v["actor"] for v in versions.json()} == {"test-manager"}


def test_preview_of_another_tenants_lead_is_rejected(configured: Admin) -> None:
    other = configured.kit.lead("someone-else").model_dump(mode="json")
    response = configured.client.post(
        f"{configured.base}/route:preview",
        json={"lead": other, "score": 1},
        headers=configured.viewer,
    )
    assert response.status_code == 422


def test_insights_and_load_list_the_teams_reps(configured: Admin) -> None:
    client, base, viewer, rep = (
        configured.client,
        configured.base,
        configured.viewer,
        configured.rep,
    )
    insight = client.get(f"{base}/routing-insights?team_id=dach", headers=viewer).json()
    assert (insight["total_assignments"], [r["rep_id"] for r in insight["reps"]]) == (
        0,
        [rep["rep_id"]],
    )
    missing = client.get(f"{base}/routing-insights?team_id=nope", headers=viewer)
    assert missing.status_code == 404
    load = client.get(f"{base}/reps:load", headers=viewer).json()
    assert [(r["rep_id"], r["assignments"], r["weight_share"]) for r in load["reps"]] == [
        (rep["rep_id"], 0, 1.0)
    ]
    assert client.get(f"{base}/assignments", headers=viewer).json() == []


def test_deleted_reps_and_teams_are_gone(configured: Admin) -> None:
    client, base, manager, viewer = (
        configured.client,
        configured.base,
        configured.manager,
        configured.viewer,
    )
    rep_url = f"{base}/reps/{configured.rep['rep_id']}"
    assert client.delete(rep_url, headers=manager).status_code == 204
    assert client.get(rep_url, headers=viewer).status_code == 404
    assert client.delete(f"{base}/teams/rest", headers=manager).status_code == 204
    assert client.get(f"{base}/teams/rest", headers=viewer).status_code == 404
