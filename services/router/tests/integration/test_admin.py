"""The admin API: teams, reps, presence, versioned routing rules, preview, roles and
tenant scoping, validation errors (RFC 9457 with field paths)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from leadflow_router.app import create_app
from leadflow_router.settings import Settings


def test_admin_api_manages_teams_reps_rules_and_previews(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    slug = make_slug("admin")
    base = f"/v1/tenants/{slug}"
    manager, viewer = kit.auth("manager", [slug]), kit.auth("viewer", [slug])
    with TestClient(create_app(ready)) as client:
        assert client.get(f"{base}/teams").status_code == 401
        assert (
            client.post(f"{base}/teams", json={"team_id": "x"}, headers=viewer).status_code == 403
        )
        assert client.get(f"{base}/teams", headers=kit.auth("manager", ["else"])).status_code == 403
        team = {
            "team_id": "dach",
            "name": "DACH",
            "strategy": "weighted_round_robin",
            "required_skills": ["lang:de"],
        }
        assert client.post(f"{base}/teams", json=team, headers=manager).status_code == 201
        assert client.post(f"{base}/teams", json=team, headers=manager).status_code == 409
        bad = client.post(
            f"{base}/teams", json={"team_id": "x", "strategy": "random"}, headers=manager
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in bad.json()["errors"]] == ["body.strategy"]
        assert (
            client.post(f"{base}/teams", json={"team_id": "rest"}, headers=manager).status_code
            == 201
        )
        changed = client.patch(
            f"{base}/teams/rest", json={"strategy": "account_owner"}, headers=manager
        )
        assert changed.json()["strategy"] == "account_owner"
        assert [t["team_id"] for t in client.get(f"{base}/teams", headers=viewer).json()] == [
            "dach",
            "rest",
        ]

        hours = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        rep = {
            "rep_id": f"jo-{slug}",
            "name": "Jo",
            "team_ids": ["dach"],
            "skills": ["lang:de"],
            "weight": 3,
            "time_zone": "Europe/Berlin",
            "working_hours": hours,
        }
        created = client.post(f"{base}/reps", json=rep, headers=manager)
        assert created.status_code == 201, created.text
        assert created.json()["working_hours"]["mon"] == [["09:00", "17:00"]]
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
        always = client.put(
            f"{base}/reps/{rep['rep_id']}", json={"working_hours": None}, headers=manager
        )
        assert always.json()["working_hours"] is None
        away = client.put(
            f"{base}/reps/{rep['rep_id']}/presence",
            json={"presence": "away"},
            headers=kit.auth("operator", [slug]),
        )
        assert away.json()["presence"] == "away"
        assert (
            client.put(
                f"{base}/reps/{rep['rep_id']}/presence",
                json={"presence": "away"},
                headers=kit.auth("operator", ["else"]),
            ).status_code
            == 403
        )
        assert (
            client.put(
                f"{base}/reps/{rep['rep_id']}/presence", json={"presence": "busy"}, headers=manager
            ).status_code
            == 422
        )
        client.put(
            f"{base}/reps/{rep['rep_id']}/presence", json={"presence": "available"}, headers=manager
        )

        assert client.get(f"{base}/routing-rules", headers=viewer).json()["version"] == 0
        rules = {
            "rules": [
                {
                    "rule_id": "dach",
                    "team_id": "dach",
                    "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
                }
            ],
            "default_team": "rest",
        }
        assert (
            client.put(f"{base}/routing-rules", json=rules, headers=manager).json()["version"] == 1
        )
        assert (
            client.put(f"{base}/routing-rules", json=rules, headers=manager).json()["version"] == 2
        )
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
            headers=manager,
        )
        assert wrong.status_code == 422
        assert client.get(f"{base}/routing-rules", headers=viewer).json()["version"] == 2

        german = kit.lead(slug, country="DE").model_dump(mode="json")
        preview = client.post(
            f"{base}/route:preview", json={"lead": german, "score": 70}, headers=viewer
        )
        assert preview.status_code == 200, preview.text
        decided = preview.json()
        assert (decided["team_id"], decided["rule_id"], decided["rules_version"]) == (
            "dach",
            "dach",
            2,
        )
        assert (decided["rep_id"], decided["strategy"]) == (rep["rep_id"], "weighted_round_robin")
        french = kit.lead(slug, country="FR").model_dump(mode="json")
        empty = client.post(
            f"{base}/route:preview", json={"lead": french, "score": 70}, headers=viewer
        ).json()
        assert (empty["team_id"], empty["failure"], empty["rep_id"]) == ("rest", "team_empty", None)
        draft = {"rules": [{"rule_id": "all-to-rest", "team_id": "rest"}], "default_team": None}
        drafted = client.post(
            f"{base}/route:preview",
            json={"lead": german, "score": 70, "rules": draft},
            headers=viewer,
        ).json()
        assert (drafted["team_id"], drafted["rule_id"], drafted["rules_version"]) == (
            "rest",
            "all-to-rest",
            "draft",
        )
        versions = client.get(f"{base}/routing-rules/versions", headers=viewer).json()
        assert [v["version"] for v in versions] == [2, 1]  # the draft stored nothing
        assert {v["actor"] for v in versions} == {"test-manager"}
        insight = client.get(f"{base}/routing-insights?team_id=dach", headers=viewer).json()
        assert (insight["total_assignments"], [r["rep_id"] for r in insight["reps"]]) == (
            0,
            [rep["rep_id"]],
        )
        missing = client.get(f"{base}/routing-insights?team_id=nope", headers=viewer)
        assert missing.status_code == 404
        other = kit.lead("someone-else").model_dump(mode="json")
        assert (
            client.post(
                f"{base}/route:preview", json={"lead": other, "score": 1}, headers=viewer
            ).status_code
            == 422
        )

        load = client.get(f"{base}/reps:load", headers=viewer).json()
        assert [(r["rep_id"], r["assignments"], r["weight_share"]) for r in load["reps"]] == [
            (rep["rep_id"], 0, 1.0)
        ]
        assert client.get(f"{base}/assignments", headers=viewer).json() == []
        assert client.delete(f"{base}/reps/{rep['rep_id']}", headers=manager).status_code == 204
        assert client.get(f"{base}/reps/{rep['rep_id']}", headers=viewer).status_code == 404
        assert client.delete(f"{base}/teams/rest", headers=manager).status_code == 204
        assert client.get(f"{base}/teams/rest", headers=viewer).status_code == 404
