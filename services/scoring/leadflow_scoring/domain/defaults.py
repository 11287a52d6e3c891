"""The rule set every tenant starts with (stored as its version 1 on first use).

Fit: seniority from the title (exclusive bands), company-size bands, corporate vs
free-mail address, target countries. Engagement: high-intent tags and sources, paid
and referral traffic, a phone number given. Weights 60/40, threshold 60: a senior
buyer at a mid-size company with a corporate address qualifies once they show intent.
"""

from __future__ import annotations

from typing import Any

from leadflow_scoring.domain.rules import RuleSetSpec

C_LEVEL = r"\b(ceo|cto|cfo|coo|cmo|cio|cro|chief|founder|co-?founder|owner|president)\b"
VP_DIRECTOR = r"\b(vp|svp|evp|vice president|director|head of)\b"
MANAGER = r"\b(manager|lead|principal)\b"


def _rule(rid: str, description: str, category: str, points: int, **cond: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "description": description,
        "category": category,
        "points": points,
        "condition": cond,
    }


def _title(pattern: str) -> dict[str, Any]:
    return {"kind": "regex", "field": "title", "pattern": pattern}


DEFAULT_RULES: list[dict[str, Any]] = [
    _rule("title-c-level", "C-level, founder or owner", "fit", 30, **_title(C_LEVEL)),
    _rule(
        "title-vp-director",
        "VP, director or head of a function",
        "fit",
        20,
        kind="all",
        conditions=[_title(VP_DIRECTOR), {"kind": "not", "condition": _title(C_LEVEL)}],
    ),
    _rule(
        "title-manager",
        "Manager or team lead",
        "fit",
        10,
        kind="all",
        conditions=[
            _title(MANAGER),
            {"kind": "not", "condition": _title(f"{C_LEVEL}|{VP_DIRECTOR}")},
        ],
    ),
    _rule(
        "size-enterprise",
        "Company of 1000+ people",
        "fit",
        25,
        kind="range",
        field="company_size",
        min=1000,
    ),
    _rule(
        "size-mid-market",
        "Company of 200-999 people",
        "fit",
        20,
        kind="range",
        field="company_size",
        min=200,
        max=999,
    ),
    _rule(
        "size-smb",
        "Company of 50-199 people",
        "fit",
        10,
        kind="range",
        field="company_size",
        min=50,
        max=199,
    ),
    _rule(
        "size-small",
        "Company of 10-49 people",
        "fit",
        5,
        kind="range",
        field="company_size",
        min=10,
        max=49,
    ),
    _rule(
        "email-corporate",
        "Corporate email address",
        "fit",
        15,
        kind="all",
        conditions=[
            {"kind": "present", "field": "email_domain"},
            {"kind": "not", "condition": {"kind": "free_email"}},
        ],
    ),
    _rule("email-free", "Free-mail email address", "fit", -10, kind="free_email"),
    _rule(
        "country-target",
        "Target country",
        "fit",
        10,
        kind="one_of",
        field="country",
        values=[
            "US",
            "CA",
            "GB",
            "IE",
            "DE",
            "AT",
            "CH",
            "FR",
            "NL",
            "BE",
            "SE",
            "DK",
            "NO",
            "FI",
            "AU",
            "NZ",
        ],
    ),
    _rule(
        "intent-tag",
        "Asked for a demo, pricing or a trial",
        "engagement",
        40,
        kind="one_of",
        field="tags",
        values=["demo", "demo-request", "pricing", "contact-sales", "trial", "quote"],
    ),
    _rule(
        "intent-source",
        "High-intent source",
        "engagement",
        25,
        kind="one_of",
        field="source",
        values=["demo-form", "contact-form", "pricing-page", "referral"],
    ),
    _rule(
        "utm-paid",
        "Paid search or paid social click",
        "engagement",
        20,
        kind="one_of",
        field="utm.medium",
        values=["cpc", "ppc", "paid", "paid-search", "paid-social", "paidsocial"],
    ),
    _rule(
        "utm-referral",
        "Referred by a partner or customer",
        "engagement",
        25,
        kind="one_of",
        field="utm.medium",
        values=["referral", "partner"],
    ),
    _rule("phone-given", "Left a phone number", "engagement", 10, kind="present", field="phone"),
]


def default_rule_set() -> RuleSetSpec:
    """A fresh, validated copy (validation here guards the shipped data itself)."""
    return RuleSetSpec.model_validate(
        {"rules": DEFAULT_RULES, "weights": {"fit": 60, "engagement": 40}, "threshold": 60}
    )
