"""Every request the journeys make to the services' public APIs, in one place."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from leadflow_contracts import lead_id_for
from leadflow_local.demo.client import ApiError, Client
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.support import evidence
from tests.e2e.support.deployment import Deployment
from tests.e2e.support.signing import new_webhook_id


class Api(Client):
    """Every request the journeys make, in one place (paths and bodies per issues 3-7);
    the calls themselves are the launcher's demo client, with every answer recorded for
    ``make proof``."""

    def __init__(self, deployment: Deployment, http: httpx.AsyncClient) -> None:
        super().__init__(deployment.urls, deployment.jwt_secret, http, sub="e2e")
        self.deployment = deployment

    def record(self, response: httpx.Response) -> None:
        if recorder := evidence.current():
            recorder.record(self, response)

    # -- ingest (issue 3) ------------------------------------------------------------
    async def create_tier(self, name: str, *, sla_minutes: int, rate_per_minute: int) -> Any:
        body = {
            "name": name,
            "rate_per_minute": rate_per_minute,
            "monthly_quota": 10_000_000,
            "sla_minutes": sla_minutes,
            "features": {"e2e": True},
        }
        return await self.json("ingest", "POST", "/v1/tiers", json=body, expect=201)

    async def create_tenant(self, slug: str, tier: str, default_region: str = "DE") -> Any:
        body = {"slug": slug, "name": f"E2E {slug}", "tier": tier, "default_region": default_region}
        return await self.json("ingest", "POST", "/v1/tenants", json=body, expect=201)

    async def list_secrets(self, slug: str, source: str) -> list[dict[str, Any]]:
        path = f"/v1/tenants/{slug}/sources/{source}/secrets"
        result: list[dict[str, Any]] = await self.json(
            "ingest", "GET", path, role="manager", tenant=slug
        )
        return result

    async def revoke_secret(self, slug: str, source: str, secret_id: str) -> None:
        path = f"/v1/tenants/{slug}/sources/{source}/secrets/{secret_id}"
        await self.call("ingest", "DELETE", path, role="manager", tenant=slug, expect=204)

    # -- scoring (issue 4) -----------------------------------------------------------
    async def qualify_everything(self, slug: str) -> int:
        """A rule set under which every lead with an email qualifies (routing journeys)."""
        rules = [
            {
                "id": "has-email",
                "description": "Gave an email address",
                "category": "fit",
                "points": 100,
                "condition": {"kind": "present", "field": "email"},
            },
            {
                "id": "any-source",
                "description": "Came in through a webhook",
                "category": "engagement",
                "points": 100,
                "condition": {"kind": "present", "field": "source"},
            },
        ]
        stored = await self.put_scoring(slug, rules, threshold=50)
        version: int = stored["version"]
        return version

    async def preview_score(self, slug: str, lead: dict[str, Any]) -> Any:
        return await self.json(
            "scoring",
            "POST",
            f"/v1/tenants/{slug}/score:preview",
            json=lead,
            role="viewer",
            tenant=slug,
            expect=200,
        )

    # -- router (issue 5) ------------------------------------------------------------
    async def create_team(
        self, slug: str, team_id: str, *, strategy: str, required_skills: list[str] | None = None
    ) -> str:
        body = {
            "team_id": team_id,
            "name": team_id.capitalize(),
            "strategy": strategy,
            "required_skills": required_skills or [],
        }
        path = f"/v1/tenants/{slug}/teams"
        team = await self.json(
            "router", "POST", path, json=body, role="manager", tenant=slug, expect=201
        )
        return str(team["team_id"])

    async def create_rep(self, slug: str, name: str, team_id: str, **fields: Any) -> str:
        """A rep (available, capacity 100, weight 1, no schedule unless given); rep ids
        are global, so they carry the tenant's slug."""
        body = {
            "rep_id": f"{slug}-{name}",
            "name": name.capitalize(),
            "email": f"{name}@{slug}.example.com",
            "team_ids": [team_id],
            "skills": [],
            "capacity": 100,
            "weight": 1,
            "time_zone": "UTC",
            "working_hours": None,
            "presence": "available",
            "active": True,
        } | fields
        path = f"/v1/tenants/{slug}/reps"
        rep = await self.json(
            "router", "POST", path, json=body, role="manager", tenant=slug, expect=201
        )
        return str(rep["rep_id"])

    async def work_queue(self, slug: str, status: str = "open") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = await self.json(
            "router",
            "GET",
            f"/v1/tenants/{slug}/work-queue",
            params={"status": status},
            role="manager",
            tenant=slug,
        )
        return items

    async def claim_work_item(self, slug: str, item_id: str) -> Any:
        path = f"/v1/work-queue/{item_id}:claim"
        return await self.json("router", "POST", path, role="manager", tenant=slug)

    async def assign_work_item(self, slug: str, item_id: str, rep_id: str) -> Any:
        path = f"/v1/work-queue/{item_id}:assign"
        return await self.json(
            "router", "POST", path, json={"rep_id": rep_id}, role="manager", tenant=slug
        )

    # -- audit (issue 6) -------------------------------------------------------------
    async def audit_events(self, slug: str, **query: Any) -> Any:
        return await self.json(
            "audit", "GET", "/v1/events", params=query, role="viewer", tenant=slug
        )

    async def verify_chain(self) -> Any:
        return await self.json("audit", "GET", "/v1/audit:verify", role="viewer")

    # -- dlq (issue 7) ---------------------------------------------------------------
    async def dead_letter(self, slug: str, dead_letter_id: str) -> Any:
        return await self.json(
            "dlq", "GET", f"/v1/dead-letters/{dead_letter_id}", role="operator", tenant=slug
        )

    # -- every service ---------------------------------------------------------------
    async def metrics(self, service: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """``/metrics`` as {(sample name, sorted labels): value}."""
        text = (await self.call(service, "GET", "/metrics", expect=200)).text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@dataclass
class Tenant:
    """A tenant provisioned for one test, with its ``generic`` source and first secret."""

    api: Api
    slug: str
    tier: str
    sla_minutes: int
    source: str
    secret: str
    secret_id: str
    domain: str = field(init=False)

    def __post_init__(self) -> None:
        self.domain = f"{self.slug}.example.com"

    def lead_id(self, webhook_id: str) -> uuid.UUID:
        return lead_id_for(self.slug, self.source, webhook_id)

    async def send(
        self,
        body: dict[str, Any] | bytes,
        *,
        webhook_id: str | None = None,
        secret: str | list[str] | None = None,
        at: datetime | None = None,
        slug: str | None = None,
        signed_body: bytes | None = None,
        expect: int | None = 202,
    ) -> httpx.Response:
        """POST a webhook signed by the official package (defaults: this tenant's URL and
        current secret, a fresh webhook-id, now; ``signed_body`` signs other bytes than
        those sent, as a tampering proxy would)."""
        response = await self.api.post_webhook(
            slug or self.slug,
            self.source,
            body,
            secret=self.secret if secret is None else secret,
            webhook_id=webhook_id or new_webhook_id(),
            at=at,
            signed_body=signed_body,
        )
        if expect is not None and response.status_code != expect:
            raise ApiError(
                f"webhook answered {response.status_code}, expected {expect}: {response.text}"
            )
        return response

    async def send_lead(self, body: dict[str, Any]) -> tuple[uuid.UUID, str]:
        """Send one accepted lead; returns its lead_id and webhook-id (= correlation id)."""
        webhook_id = new_webhook_id()
        answer = (await self.send(body, webhook_id=webhook_id)).json()
        lead_id = self.lead_id(webhook_id)
        assert answer["lead_id"] == str(lead_id), answer
        return lead_id, webhook_id

    def lead(self, name: str = "lead", **fields: Any) -> dict[str, Any]:
        """A strong generic lead with a unique corporate email of this tenant's domain."""
        return {
            "first_name": "Ada",
            "last_name": name.capitalize(),
            "email": f"{name}.{uuid.uuid4().hex[:8]}@{self.domain}",
            "company": f"{self.slug} GmbH",
            "title": "VP of Sales",
            "company_size": 500,
            "industry": "Software",
            "country": "DE",
            "language": "de",
            "tags": ["demo-request"],
        } | fields


class Provision:
    """Creates uniquely named tenants: a tier of their own, the tenant, source ``generic``."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def __call__(
        self, *, sla_minutes: int = 30, rate_per_minute: int = 10_000, region: str = "DE"
    ) -> Tenant:
        slug = f"e2e-{uuid.uuid4().hex[:10]}"
        tier = f"e2e-{slug[4:]}"
        await self.api.create_tier(tier, sla_minutes=sla_minutes, rate_per_minute=rate_per_minute)
        await self.api.create_tenant(slug, tier, region)
        created = await self.api.add_source(slug, "generic")
        return Tenant(
            api=self.api,
            slug=slug,
            tier=tier,
            sla_minutes=sla_minutes,
            source="generic",
            secret=created["secret"],
            secret_id=str(created["secret_id"]),
        )
