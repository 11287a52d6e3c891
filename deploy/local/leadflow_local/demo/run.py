"""``run_demo``: provision the story, send its ten leads as signed webhooks, make each one
happen (acknowledge, bring a rep online, poison and replay, let an SLA pass), and report
every lead's outcome as the APIs tell it.

Order matters: the leads of the poison step's tenant are sent and settled first, so the
window in which its scoring rule set cannot be loaded hits only the poison lead; the SLA
lead is left unacknowledged first and waited for last (its tier's SLA is one minute).
Idempotent: a second run finds every lead received (ingest answers 200 to a repeated
webhook-id), every assignment acknowledged and the dead letter replayed, and changes
nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import make_url

from leadflow_local.demo.client import ApiError, Client
from leadflow_local.demo.outcome import IN_PROGRESS, Result, mismatches, observe
from leadflow_local.demo.poison import store_unloadable_rule_set
from leadflow_local.demo.provision import Provisioner, Secrets
from leadflow_local.demo.story import (
    LEADS,
    OUTCOMES,
    SCORING,
    SOURCE,
    TENANT_BY_SLUG,
    DemoLead,
)
from leadflow_local.demo.table import render

SERVICES = ("ingest", "scoring", "router", "audit", "dlq")


class DemoUnavailable(RuntimeError):
    """The stack does not answer (the message says which service and how to start it)."""


@dataclass(frozen=True)
class LeadReport:
    lead: DemoLead
    result: Result
    problems: tuple[str, ...]
    console_url: str | None

    @classmethod
    def of(cls, lead: DemoLead, result: Result, console_url: str | None) -> LeadReport:
        """``result`` compared with what the story expects of ``lead``."""
        page = f"{console_url.rstrip('/')}/leads/{lead.lead_id}" if console_url else None
        return cls(lead, result, tuple(mismatches(lead, result)), page)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class DemoReport:
    leads: tuple[LeadReport, ...]
    #: What this run created or did (empty: it changed nothing).
    changes: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def ok(self) -> bool:
        return all(lead.ok for lead in self.leads)


class Demo:
    def __init__(
        self,
        client: Client,
        secrets: Secrets,
        say: Callable[[str], None],
        *,
        scoring_database_url: str | None,
        timeout_s: float,
    ) -> None:
        self.client = client
        self.secrets = secrets
        self.say = say
        self.provisioner = Provisioner(client, secrets, say)
        self.scoring_database_url = scoring_database_url
        self.timeout_s = timeout_s
        self._changed = self.provisioner.changed

    # -- reading -----------------------------------------------------------------
    async def received(self, lead: DemoLead) -> bool:
        return (await self.client.ingest_lead(lead.tenant, lead.lead_id)).status_code == 200

    async def dead_letters(self, lead: DemoLead) -> list[dict[str, Any]]:
        letters = await self.client.dead_letters(lead.tenant, tenant=lead.tenant, limit=500)
        return [d for d in letters if d.get("lead_id") == str(lead.lead_id)]

    async def result(self, lead: DemoLead) -> Result:
        answer = await self.client.timeline(lead.tenant, lead.lead_id)
        events = answer.json()["events"] if answer.status_code == 200 else []
        return observe(events, await self.dead_letters(lead))

    async def settle(
        self, lead: DemoLead, *, until: Collection[str] = (), timeout_s: float | None = None
    ) -> Result:
        """Polls the lead until its outcome is in ``until`` (default: any outcome, i.e.
        not in progress); returns what it is at the deadline otherwise."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            result = await self.result(lead)
            done = result.outcome in until if until else result.outcome not in IN_PROGRESS
            if done or time.monotonic() > deadline:
                return result
            await asyncio.sleep(0.5)

    # -- acting ------------------------------------------------------------------
    async def send(self, lead: DemoLead) -> None:
        """POSTs the lead's signed webhook (its webhook-id is fixed: a repeat is a 200)."""
        secret = self.secrets.get(lead.tenant)
        if secret is None:
            if await self.received(lead):
                return  # nothing to sign: the lead is in already
            secret = await self.provisioner.rotate_secret(lead.tenant)
        answer = await self.client.post_webhook(
            lead.tenant, SOURCE, lead.body, secret=secret, webhook_id=lead.webhook_id
        )
        if answer.status_code not in (200, 202) or answer.json()["lead_id"] != str(lead.lead_id):
            raise ApiError(
                f"webhook of lead {lead.key} answered {answer.status_code}: {answer.text}"
            )
        if answer.status_code == 202:
            self._changed(f"sent lead {lead.key} ({lead.name}): 202 accepted")

    async def ack(self, lead: DemoLead) -> None:
        """The rep acknowledges the lead's current assignment, if still open."""
        rows = await self.client.assignments(lead.tenant, lead_id=str(lead.lead_id))
        if rows and rows[0]["status"] == "open":
            await self.client.ack_assignment(lead.tenant, rows[0]["assignment_id"])
            self._changed(f"{rows[0]['rep_id']} acknowledged lead {lead.key}")

    async def presence(self, slug: str, rep_id: str, presence: str) -> None:
        rep = await self.client.json("router", "GET", f"/v1/tenants/{slug}/reps/{rep_id}")
        if rep["presence"] != presence:
            await self.client.set_presence(slug, rep_id, presence)
            self._changed(f"{rep_id} is now {presence}")

    # -- the story ---------------------------------------------------------------
    async def play(self, lead: DemoLead) -> None:
        if lead.poison:
            await self.poison(lead)
            return
        if lead.online and not await self.received(lead):
            await self.presence(lead.tenant, lead.online, "offline")
        await self.send(lead)
        if lead.online:
            await self.settle(lead, until=("in work queue", *OUTCOMES))
            await self.presence(lead.tenant, lead.online, "available")
        result = await self.settle(lead)
        if not (lead.ignore_first_assignment and result.outcome == "assigned"):
            await self.ack(lead)

    async def poison(self, lead: DemoLead) -> None:
        """The one step below the API (see ``poison``), then the fix and the replay
        through the scoring and dlq APIs."""
        if not await self.received(lead):
            if self.scoring_database_url is None:
                self.say(f"  lead {lead.key} not sent: the poison step needs scoring's database")
                return
            try:
                version = await store_unloadable_rule_set(self.scoring_database_url, lead.tenant)
            except psycopg.OperationalError:
                where = make_url(self.scoring_database_url).render_as_string(hide_password=True)
                self.say(
                    f"  lead {lead.key} not sent: scoring's database {where} does not answer "
                    "(give the stack's PostgreSQL with --database-url)"
                )
                return
            self._changed(
                f"below the API: stored scoring version {version} of {lead.tenant}, which this "
                "release cannot load (as a newer release would leave it)"
            )
            await self.send(lead)
        pending = await self.settle(lead, until=("dead-lettered", *OUTCOMES))
        if pending.outcome == "dead-lettered":
            self.say(f"  lead {lead.key} is in the DLQ: fixing the rule set, then replaying")
        # The fix: the manager stores a good rule set through the scoring API.
        await self.provisioner.scoring(lead.tenant, SCORING)
        for letter in await self.dead_letters(lead):
            if letter["status"] == "pending":
                await self.client.replay_dead_letter(lead.tenant, letter["id"])
                self._changed(f"replayed dead letter {letter['id']} of lead {lead.key}")
        await self.settle(lead)
        await self.ack(lead)

    async def wait_sla(self, lead: DemoLead) -> None:
        """Waits out the SLA of the lead left unacknowledged, then the new rep acks."""
        result = await self.result(lead)
        if result.outcome == "assigned":
            minutes = TENANT_BY_SLUG[lead.tenant].tier.sla_minutes
            self.say(f"  waiting for lead {lead.key}'s {minutes}-minute SLA to pass …")
            await self.settle(lead, until=("reassigned",), timeout_s=minutes * 60 + self.timeout_s)
        await self.ack(lead)


async def check_reachable(client: Client) -> None:
    for name in SERVICES:
        url = client.urls.get(name)
        if url is None:
            raise DemoUnavailable(f"no URL for {name}")
        try:
            answer = await client.http.get(f"{url}/readyz")
        except httpx.HTTPError as exc:
            raise DemoUnavailable(
                f"{name} at {url} does not answer ({type(exc).__name__})"
            ) from exc
        if answer.status_code != 200:
            raise DemoUnavailable(f"{name} at {url} is not ready ({answer.status_code})")


async def run_demo(
    urls: Mapping[str, str],
    jwt_secret: str,
    *,
    console_url: str | None = None,
    scoring_database_url: str | None = None,
    state_dir: Path = Path(".data/demo"),
    out: Callable[[str], None] = print,
    timeout_s: float = 90.0,
) -> DemoReport:
    """Plays the story against the services at ``urls`` and prints its table.

    ``scoring_database_url`` (scoring's own database) is needed for the poison step only;
    ``state_dir`` keeps the webhook secrets between runs (secrets.json, mode 600).
    """
    async with httpx.AsyncClient(timeout=30.0) as http:
        client = Client(urls, jwt_secret, http, sub="leadflow-demo")
        await check_reachable(client)
        demo = Demo(
            client,
            Secrets(state_dir / "secrets.json"),
            out,
            scoring_database_url=scoring_database_url,
            timeout_s=timeout_s,
        )
        out("Provisioning tenants, tiers, teams, reps and rules …")
        await demo.provisioner.run()
        out("Sending the story's leads …")
        ordinary = [lead for lead in LEADS if not lead.poison]
        for lead in ordinary:
            await demo.play(lead)
        for lead in LEADS:
            if lead.poison:
                await demo.play(lead)
        for lead in LEADS:
            if lead.ignore_first_assignment:
                await demo.wait_sla(lead)
        reports = [LeadReport.of(lead, await demo.result(lead), console_url) for lead in LEADS]
    report = DemoReport(tuple(reports), tuple(demo.provisioner.changes))
    out(render(report))
    return report
