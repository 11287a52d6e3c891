"""Provisions a bench tenant through the public admin APIs: a tier with no practical
limits, rules that qualify every lead, one least-loaded team whose reps never run out of
capacity."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from servicekit.auth import mint_token


@dataclass(frozen=True)
class BenchTenant:
    slug: str
    secret: str
    webhook_url: str


def provision(urls: dict[str, str], jwt_secret: str, run: str, reps: int = 8) -> BenchTenant:
    token = mint_token(jwt_secret, sub="bench", role="admin", tenants=["*"], ttl_s=7200)
    headers = {"Authorization": f"Bearer {token}"}
    slug = f"bench-{run}"
    with httpx.Client(headers=headers, timeout=30) as http:

        def call(method: str, url: str, body: object) -> dict[str, object]:
            return _call(http, method, url, body)

        ingest, scoring, router = urls["ingest"], urls["scoring"], urls["router"]
        call(
            "POST",
            f"{ingest}/v1/tiers",
            {
                "name": f"bench-{run}",
                "rate_per_minute": 1_000_000,
                "monthly_quota": 2_000_000_000,
                "sla_minutes": 60,
                "features": {},
            },
        )
        call(
            "POST",
            f"{ingest}/v1/tenants",
            {
                "slug": slug,
                "name": "Bench",
                "tier": f"bench-{run}",
                "default_region": "DE",
            },
        )
        secret = call("POST", f"{ingest}/v1/tenants/{slug}/sources", {"source": "generic"})
        call(
            "PUT",
            f"{scoring}/v1/tenants/{slug}/scoring",
            {
                "rules": [],
                "weights": {"fit": 1, "engagement": 1},
                "threshold": 0,
            },
        )
        provision_router(http, router, slug, reps)
    return BenchTenant(slug, str(secret["secret"]), f"{ingest}/v1/webhooks/{slug}/generic")


def _call(http: httpx.Client, method: str, url: str, body: object) -> dict[str, object]:
    response = http.request(method, url, json=body)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text}")
    return response.json() if response.content else {}


def provision_router(http: httpx.Client, router: str, slug: str, reps: int = 8) -> None:
    """The tenant's routing: one least-loaded team, ``reps`` reps, the team as default."""
    team = {"team_id": "bench", "name": "Bench", "strategy": "least_loaded"}
    _call(http, "POST", f"{router}/v1/tenants/{slug}/teams", team)
    for i in range(reps):
        rep = {
            "rep_id": f"{slug}-rep-{i}",  # rep ids are unique across tenants
            "name": f"Rep {i}",
            "team_ids": ["bench"],
            "capacity": 10_000_000,
            "presence": "available",
        }
        _call(http, "POST", f"{router}/v1/tenants/{slug}/reps", rep)
    rules = {"rules": [], "default_team": "bench"}
    _call(http, "PUT", f"{router}/v1/tenants/{slug}/routing-rules", rules)
