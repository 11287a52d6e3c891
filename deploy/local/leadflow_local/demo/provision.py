"""Provisioning of the story's tenants through the admin APIs, checking before creating:
what exists is left alone (a second run changes nothing), what is missing is created.

Webhook secrets are shown once, when a source is created: the demo keeps each one in its
state file (as an upstream sender keeps its secret) to sign the webhooks of later runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leadflow_local.demo.client import Client
from leadflow_local.demo.story import SCORING, SOURCE, TENANTS, Tenant


class Secrets:
    """``{tenant slug: webhook secret}`` of the ``generic`` source, in a file only its
    owner can read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, slug: str) -> str | None:
        return self.values.get(slug)

    def put(self, slug: str, secret: str) -> None:
        self.values[slug] = secret
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.values, out, indent=2)


def covers(have: Any, want: Any) -> bool:
    """Whether ``have`` (as stored, with defaults filled in) says everything ``want`` says."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(covers(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(covers(h, w) for h, w in zip(have, want, strict=True))
        )
    return bool(have == want)


def scoring_matches(current: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """Whether the tenant's current rule set is valid and says what ``wanted`` says."""
    return current is not None and current.get("valid") is True and covers(current, wanted)


class Provisioner:
    """Makes the story's world exist; ``changes`` lists what it had to create."""

    def __init__(self, client: Client, secrets: Secrets, say: Callable[[str], None]) -> None:
        self.client = client
        self.secrets = secrets
        self.say = say
        self.changes: list[str] = []

    def changed(self, what: str) -> None:
        """Records (and says) one thing this run made or did."""
        self.changes.append(what)
        self.say(f"  {what}")

    async def run(self) -> list[str]:
        for tenant in TENANTS:
            await self.tenant(tenant)
        return self.changes

    async def tenant(self, tenant: Tenant) -> None:
        c, slug = self.client, tenant.slug
        if await c.get_or_none("ingest", f"/v1/tiers/{tenant.tier.name}") is None:
            await c.json("ingest", "POST", "/v1/tiers", json=tenant.tier.body(), expect=201)
            self.changed(f"created tier {tenant.tier.name} (SLA {tenant.tier.sla_minutes} min)")
        if await c.get_or_none("ingest", f"/v1/tenants/{slug}") is None:
            body = {
                "slug": slug,
                "name": tenant.name,
                "tier": tenant.tier.name,
                "default_region": tenant.region,
            }
            await c.json("ingest", "POST", "/v1/tenants", json=body, expect=201)
            self.changed(f"created tenant {slug} on tier {tenant.tier.name}")
        await self.source(tenant)
        await self.scoring(slug, SCORING)
        for team in tenant.teams:
            if await c.get_or_none("router", f"/v1/tenants/{slug}/teams/{team.team_id}") is None:
                await c.json(
                    "router", "POST", f"/v1/tenants/{slug}/teams", json=team.body(), expect=201
                )
                self.changed(f"created team {slug}/{team.team_id} ({team.strategy})")
        for rep in tenant.reps:
            if await c.get_or_none("router", f"/v1/tenants/{slug}/reps/{rep.rep_id}") is None:
                await c.json(
                    "router", "POST", f"/v1/tenants/{slug}/reps", json=rep.body(), expect=201
                )
                self.changed(
                    f"created rep {rep.rep_id} ({rep.time_zone}, skills {','.join(rep.skills)}, "
                    f"capacity {rep.capacity}, weight {rep.weight}, {rep.presence})"
                )
        wanted = tenant.routing_body()
        if not covers(await c.get_or_none("router", f"/v1/tenants/{slug}/routing-rules"), wanted):
            await c.put_routing_rules(slug, default_team=tenant.default_team, rules=wanted["rules"])
            self.changed(f"created routing rules of {slug}")

    async def source(self, tenant: Tenant) -> None:
        c, slug = self.client, tenant.slug
        sources = await c.json("ingest", "GET", f"/v1/tenants/{slug}/sources")
        if not any(s["source"] == SOURCE for s in sources):
            created = await c.add_source(slug, SOURCE)
            self.secrets.put(slug, created["secret"])
            self.changed(f"created source {slug}/{SOURCE} and its webhook secret")

    async def rotate_secret(self, slug: str) -> str:
        """A new secret when the state file lost ours (older ones stay valid 5 minutes)."""
        created = await self.client.rotate_secret(slug, SOURCE, grace_seconds=300)
        secret: str = created["secret"]
        self.secrets.put(slug, secret)
        self.changed(f"a new webhook secret for {slug}/{SOURCE} (the state file had none)")
        return secret

    async def scoring(self, slug: str, wanted: dict[str, Any]) -> bool:
        """Stores ``wanted`` as the tenant's rule set unless it is current already."""
        path = f"/v1/tenants/{slug}/scoring"
        current = await self.client.get_or_none("scoring", path, role="manager", tenant=slug)
        if scoring_matches(current, wanted):
            return False
        stored = await self.client.put_scoring(
            slug, wanted["rules"], threshold=wanted["threshold"], weights=wanted["weights"]
        )
        self.changed(f"created scoring rule set of {slug} (version {stored['version']})")
        return True
