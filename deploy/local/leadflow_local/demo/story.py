"""The demo's story as data: two tenants, three teams, their reps and rules, and ten leads
with fixed webhook ids, each with the outcome it must reach.

Everything has a fixed id (tenant slugs, tier names, team and rep ids, webhook ids), so
``lead_id = lead_id_for(tenant, source, webhook_id)`` is fixed too and a second run finds
what the first one made instead of making it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from leadflow_contracts import lead_id_for

SOURCE = "generic"

#: What a lead ends as. ``assigned``: routed straight away; ``work_queue_assigned``:
#: nobody eligible at first, assigned once a rep came online; ``reassigned``: its first rep
#: let the SLA pass; ``dlq_replayed``: dead-lettered, replayed after a fix, assigned.
Outcome = Literal[
    "assigned", "unqualified", "duplicate", "work_queue_assigned", "reassigned", "dlq_replayed"
]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


@dataclass(frozen=True)
class Tier:
    name: str
    sla_minutes: int
    rate_per_minute: int
    monthly_quota: int
    features: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sla_minutes": self.sla_minutes,
            "rate_per_minute": self.rate_per_minute,
            "monthly_quota": self.monthly_quota,
            "features": self.features,
        }


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    strategy: str
    required_skills: tuple[str, ...] = ()
    fallback_strategy: str = "least_loaded"

    def body(self) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "name": self.name,
            "strategy": self.strategy,
            "fallback_strategy": self.fallback_strategy,
            "required_skills": list(self.required_skills),
        }


@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str
    team_id: str
    time_zone: str
    skills: tuple[str, ...] = ()
    capacity: int = 20
    weight: int = 1
    #: The presence the rep is created with (the story may change it later).
    presence: str = "available"

    def body(self) -> dict[str, Any]:
        return {
            "rep_id": self.rep_id,
            "name": self.name,
            "email": f"{self.rep_id}@reps.example.com",
            "team_ids": [self.team_id],
            "skills": list(self.skills),
            "capacity": self.capacity,
            "weight": self.weight,
            "time_zone": self.time_zone,
            "working_hours": None,
            "presence": self.presence,
            "active": True,
        }


@dataclass(frozen=True)
class Tenant:
    slug: str
    name: str
    tier: Tier
    region: str
    teams: tuple[Team, ...]
    reps: tuple[Rep, ...]
    routing_rules: tuple[dict[str, Any], ...]
    default_team: str

    def routing_body(self) -> dict[str, Any]:
        return {"rules": list(self.routing_rules), "default_team": self.default_team}


@dataclass(frozen=True)
class Expected:
    outcome: Outcome
    #: The rep who must hold the lead at the end (None: no rep, e.g. unqualified).
    rep_id: str | None = None
    team_id: str | None = None
    strategy: str | None = None
    #: Rule ids that must be among the lead's score reasons.
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoLead:
    key: str
    tenant: str
    webhook_id: str
    title: str  # what this lead shows, for the table
    body: dict[str, Any]
    expected: Expected
    #: The SLA lead: its first assignment is left unacknowledged on purpose.
    ignore_first_assignment: bool = False
    #: Sent with no eligible rep; ``online`` is then brought online.
    online: str | None = None
    #: Sent while the tenant's scoring rule set cannot be loaded (the poison record).
    poison: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lead_id(self) -> uuid.UUID:
        return lead_id_for(self.tenant, SOURCE, self.webhook_id)

    @property
    def name(self) -> str:
        return f"{self.body['first_name']} {self.body['last_name']}"


def _rule(
    rule_id: str, description: str, category: str, points: int, condition: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": rule_id,
        "description": description,
        "category": category,
        "points": points,
        "condition": condition,
    }


#: One scoring rule set for both tenants (threshold 50, fit 60 / engagement 40).
SCORING: dict[str, Any] = {
    "rules": [
        _rule(
            "senior-title",
            "Senior title",
            "fit",
            40,
            {
                "kind": "regex",
                "field": "title",
                "pattern": r"\b(vp|vice president|head|director|chief|cto|ceo|cro)\b",
            },
        ),
        _rule(
            "mid-market",
            "200+ employees",
            "fit",
            30,
            {"kind": "range", "field": "company_size", "min": 200},
        ),
        _rule(
            "target-country",
            "Target market",
            "fit",
            20,
            {"kind": "one_of", "field": "country", "values": ["DE", "AT", "CH", "US", "GB", "JP"]},
        ),
        _rule("free-email", "Free email address", "fit", -40, {"kind": "free_email"}),
        _rule(
            "duplicate",
            "Duplicate lead",
            "fit",
            -100,
            {"kind": "present", "field": "duplicate_of"},
        ),
        _rule(
            "demo-request",
            "Asked for a demo",
            "engagement",
            60,
            {"kind": "equals", "field": "tags", "value": "demo-request"},
        ),
        _rule(
            "paid-campaign",
            "Paid campaign",
            "engagement",
            40,
            {"kind": "one_of", "field": "utm.source", "values": ["google", "linkedin"]},
        ),
    ],
    "weights": {"fit": 60, "engagement": 40},
    "threshold": 50,
}

ENTERPRISE = Tier(
    name="demo-enterprise",
    # One minute, the shortest SLA a tier can have: the demo shows a breach without a
    # long wait. Every other assignment of this tier is acknowledged at once.
    sla_minutes=1,
    rate_per_minute=600,
    monthly_quota=1_000_000,
    features={"sla": "1 minute", "demo": True},
)
STARTER = Tier(
    name="demo-starter",
    sla_minutes=240,
    rate_per_minute=60,
    monthly_quota=10_000,
    features={"sla": "4 hours", "demo": True},
)

ACME = Tenant(
    slug="demo-acme",
    name="Acme (demo)",
    tier=ENTERPRISE,
    region="DE",
    teams=(
        Team("dach", "DACH inbound", "least_loaded", required_skills=("lang:de",)),
        Team("enterprise", "Enterprise accounts", "account_owner"),
    ),
    reps=(
        Rep("demo-acme-anna", "Anna Berger", "dach", "Europe/Berlin", ("lang:de",), capacity=5),
        Rep("demo-acme-claire", "Claire Martin", "dach", "Europe/Paris", ("lang:fr",), capacity=5),
        Rep("demo-acme-erin", "Erin Walsh", "enterprise", "America/New_York", ("lang:en",)),
        Rep("demo-acme-frank", "Frank Ortiz", "enterprise", "America/Chicago", ("lang:en",)),
    ),
    routing_rules=(
        {
            "rule_id": "dach",
            "team_id": "dach",
            "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
        },
        {
            "rule_id": "enterprise",
            "team_id": "enterprise",
            "conditions": [{"field": "company_size", "op": "gte", "value": 1000}],
        },
    ),
    default_team="dach",
)
GLOBEX = Tenant(
    slug="demo-globex",
    name="Globex (demo)",
    tier=STARTER,
    region="US",
    teams=(Team("inbound", "Inbound", "weighted_round_robin"),),
    reps=(
        Rep("demo-globex-gia", "Gia Tran", "inbound", "Asia/Singapore", ("lang:en",), weight=3),
        Rep("demo-globex-hal", "Hal Brooks", "inbound", "Europe/London", ("lang:en",), weight=1),
        Rep(
            "demo-globex-kenji",
            "Kenji Sato",
            "inbound",
            "Asia/Tokyo",
            ("lang:en", "lang:ja"),
            presence="offline",
        ),
    ),
    routing_rules=(
        {
            "rule_id": "japan",
            "team_id": "inbound",
            "conditions": [{"field": "country", "op": "eq", "value": "JP"}],
            "required_skills": ["lang:ja"],
        },
    ),
    default_team="inbound",
)
TENANTS = (ACME, GLOBEX)


def _lead(first: str, last: str, email: str, **fields: Any) -> dict[str, Any]:
    return {
        "first_name": first,
        "last_name": last,
        "email": email,
        "title": "VP of Sales",
        "company_size": 500,
        "industry": "Software",
        "tags": ["demo-request"],
    } | fields


GOOD = ("senior-title", "mid-market", "demo-request")

LEADS: tuple[DemoLead, ...] = (
    DemoLead(
        "skill",
        ACME.slug,
        "msg_demo_acme_01_skill",
        "assigned by skill (German-speaking rep)",
        _lead(
            "Jonas",
            "Keller",
            "jonas.keller@bergwerk.example.com",
            company="Bergwerk GmbH",
            country="DE",
            language="de",
        ),
        Expected("assigned", "demo-acme-anna", "dach", "least_loaded", GOOD),
    ),
    DemoLead(
        "owner-first",
        ACME.slug,
        "msg_demo_acme_02_owner_first",
        "first lead of an account: least loaded, becomes its owner",
        _lead(
            "Maya",
            "Chen",
            "maya.chen@initech.example.com",
            company="Initech",
            company_size=5000,
            country="US",
            utm={"source": "linkedin"},
        ),
        Expected("assigned", "demo-acme-erin", "enterprise", "least_loaded", GOOD),
    ),
    DemoLead(
        "owner",
        ACME.slug,
        "msg_demo_acme_03_owner",
        "assigned by account owner (same company)",
        _lead(
            "Raj",
            "Patel",
            "raj.patel@initech.example.com",
            title="Director of IT",
            company="Initech",
            company_size=5000,
            country="US",
        ),
        Expected("assigned", "demo-acme-erin", "enterprise", "account_owner", GOOD),
    ),
    DemoLead(
        "sla",
        ACME.slug,
        "msg_demo_acme_04_sla",
        "not acknowledged within the 1-minute SLA: reassigned",
        _lead(
            "Olga",
            "Ivanova",
            "olga.ivanova@umbrella.example.com",
            title="Head of Operations",
            company="Umbrella Corp",
            company_size=2000,
            country="US",
        ),
        Expected("reassigned", "demo-acme-erin", "enterprise", None, GOOD),
        ignore_first_assignment=True,
    ),
    DemoLead(
        "unqualified",
        ACME.slug,
        "msg_demo_acme_05_unqualified",
        "unqualified: free email, small company, no demo request",
        _lead(
            "Tim",
            "Becker",
            "tim.becker1987@gmail.com",
            title="Student",
            company_size=3,
            country="DE",
            tags=[],
        ),
        Expected("unqualified", reasons=("free-email", "target-country")),
    ),
    DemoLead(
        "duplicate",
        ACME.slug,
        "msg_demo_acme_06_duplicate",
        "the same person again (same email): a duplicate",
        _lead(
            "Jonas",
            "Keller",
            "Jonas.Keller@bergwerk.example.com",
            company="Bergwerk GmbH",
            country="DE",
            language="de",
        ),
        Expected("duplicate", reasons=("duplicate",)),
    ),
    DemoLead(
        "rotation-1",
        GLOBEX.slug,
        "msg_demo_globex_07_rotation",
        "weighted rotation (weights 3:1), first turn",
        _lead(
            "Liam",
            "Scott",
            "liam.scott@hooli.example.com",
            company="Hooli",
            country="US",
            utm={"source": "google"},
        ),
        Expected("assigned", "demo-globex-gia", "inbound", "weighted_round_robin", GOOD),
    ),
    DemoLead(
        "rotation-2",
        GLOBEX.slug,
        "msg_demo_globex_08_rotation",
        "weighted rotation (weights 3:1), second turn",
        _lead(
            "Emma",
            "Lopez",
            "emma.lopez@piedpiper.example.com",
            company="Pied Piper",
            country="GB",
        ),
        Expected("assigned", "demo-globex-hal", "inbound", "weighted_round_robin", GOOD),
    ),
    DemoLead(
        "work-queue",
        GLOBEX.slug,
        "msg_demo_globex_09_work_queue",
        "needs Japanese; nobody online: work queue, then Kenji comes online",
        _lead(
            "Haruto",
            "Tanaka",
            "haruto.tanaka@kaiju.example.com",
            company="Kaiju KK",
            country="JP",
            language="ja",
        ),
        Expected("work_queue_assigned", "demo-globex-kenji", "inbound", None, GOOD),
        online="demo-globex-kenji",
    ),
    DemoLead(
        "poison",
        GLOBEX.slug,
        "msg_demo_globex_10_poison",
        "poison: rule set unloadable, dead-lettered, fixed, replayed",
        _lead(
            "Zoe",
            "Adams",
            "zoe.adams@vandelay.example.com",
            company="Vandelay Industries",
            country="US",
        ),
        Expected("dlq_replayed", None, "inbound", "weighted_round_robin", GOOD),
        poison=True,
    ),
)

TENANT_BY_SLUG = {t.slug: t for t in TENANTS}
