"""Every condition kind, table-driven: what matches, what does not, what is refused."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from leadflow_contracts import Lead, utcnow
from leadflow_scoring.domain.rules import Rule
from pydantic import ValidationError

BASE: dict[str, Any] = {
    "lead_id": uuid.UUID(int=1),
    "tenant_id": "acme",
    "source": "generic",
    "email": "jane@acme.io",
    "phone": "+4930123456",
    "title": "Head of Sales Operations",
    "company_size": 250,
    "industry": "Software",
    "country": "DE",
    "language": "de",
    "utm": {"source": "google", "medium": "cpc", "campaign": "Brand-DE-2026"},
    "tags": ["newsletter", "Demo-Request"],
}
EMPTY: dict[str, Any] = {"lead_id": uuid.UUID(int=2), "tenant_id": "acme", "source": "generic"}


def lead(**fields: Any) -> Lead:
    return Lead.model_validate({**BASE, "received_at": utcnow(), **fields})


def bare(**fields: Any) -> Lead:
    return Lead.model_validate({**EMPTY, "received_at": utcnow(), **fields})


def matches(condition: dict[str, Any], subject: Lead) -> bool:
    rule = Rule.model_validate(
        {"id": "r", "description": "d", "category": "fit", "points": 1, "condition": condition}
    )
    return rule.condition.matches(subject)


CASES: list[tuple[str, dict[str, Any], Lead, bool]] = [
    # equals: case-insensitive by default, exact when asked
    ("equals", {"kind": "equals", "field": "country", "value": "de"}, lead(), True),
    ("equals cs", {"kind": "equals", "field": "country", "value": "de", "case_sensitive": True},
     lead(), False),
    ("equals other", {"kind": "equals", "field": "industry", "value": "Retail"}, lead(), False),
    ("equals tags any", {"kind": "equals", "field": "tags", "value": "demo-request"}, lead(), True),
    ("equals utm", {"kind": "equals", "field": "utm.medium", "value": "CPC"}, lead(), True),
    ("equals missing", {"kind": "equals", "field": "industry", "value": "x"}, bare(), False),
    ("equals email_domain", {"kind": "equals", "field": "email_domain", "value": "acme.io"},
     lead(), True),
    # one_of
    ("one_of", {"kind": "one_of", "field": "country", "values": ["US", "DE"]}, lead(), True),
    ("one_of miss", {"kind": "one_of", "field": "country", "values": ["US", "FR"]}, lead(),
     False),
    ("one_of source", {"kind": "one_of", "field": "source", "values": ["ghl", "generic"]},
     lead(), True),
    ("one_of language", {"kind": "one_of", "field": "language", "values": ["en"]}, lead(), False),
    # contains
    ("contains", {"kind": "contains", "field": "title", "value": "sales"}, lead(), True),
    ("contains campaign", {"kind": "contains", "field": "utm.campaign", "value": "brand"},
     lead(), True),
    ("contains miss", {"kind": "contains", "field": "title", "value": "engineer"}, lead(), False),
    ("contains tags", {"kind": "contains", "field": "tags", "value": "demo"}, lead(), True),
    # regex: re.search, case-insensitive by default
    ("regex", {"kind": "regex", "field": "title", "pattern": r"\bhead of\b"}, lead(), True),
    ("regex anchored", {"kind": "regex", "field": "title", "pattern": r"^sales"}, lead(), False),
    ("regex cs", {"kind": "regex", "field": "title", "pattern": "head", "case_sensitive": True},
     lead(), False),
    ("regex missing", {"kind": "regex", "field": "title", "pattern": ".*"}, bare(), False),
    # range: inclusive bounds, either may be open
    ("range in", {"kind": "range", "field": "company_size", "min": 200, "max": 999}, lead(), True),
    ("range min edge", {"kind": "range", "field": "company_size", "min": 250}, lead(), True),
    ("range max edge", {"kind": "range", "field": "company_size", "max": 249}, lead(), False),
    ("range missing", {"kind": "range", "field": "company_size", "min": 0}, bare(), False),
    # presence
    ("present", {"kind": "present", "field": "phone"}, lead(), True),
    ("present size", {"kind": "present", "field": "company_size"}, lead(company_size=0), True),
    ("present empty tags", {"kind": "present", "field": "tags"}, lead(tags=[]), False),
    ("present dup", {"kind": "present", "field": "duplicate_of"}, lead(), False),
    ("absent", {"kind": "absent", "field": "phone"}, bare(), True),
    ("absent no", {"kind": "absent", "field": "utm.source"}, lead(), False),
    # free-mail list (the pinned package) plus a rule's own additions
    ("free gmail", {"kind": "free_email"}, lead(email="x@gmail.com"), True),
    ("free gmx", {"kind": "free_email"}, lead(email="x@gmx.de"), True),
    ("free corporate", {"kind": "free_email"}, lead(), False),
    ("free no email", {"kind": "free_email"}, bare(), False),
    ("free extra", {"kind": "free_email", "extra_domains": ["Acme.io"]}, lead(), True),
    # combinators
    ("all", {"kind": "all", "conditions": [
        {"kind": "present", "field": "email_domain"}, {"kind": "not", "condition": {
            "kind": "free_email"}}]}, lead(), True),
    ("all fails", {"kind": "all", "conditions": [
        {"kind": "present", "field": "email_domain"}, {"kind": "not", "condition": {
            "kind": "free_email"}}]}, lead(email="x@yahoo.com"), False),
    ("any", {"kind": "any", "conditions": [
        {"kind": "equals", "field": "country", "value": "US"},
        {"kind": "equals", "field": "country", "value": "DE"}]}, lead(), True),
    ("any none", {"kind": "any", "conditions": [
        {"kind": "equals", "field": "country", "value": "US"}]}, lead(), False),
    ("not", {"kind": "not", "condition": {"kind": "present", "field": "title"}}, bare(), True),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "subject", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_condition(condition: dict[str, Any], subject: Lead, expected: bool) -> None:
    assert matches(condition, subject) is expected


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("unknown kind", {"kind": "sounds_like", "field": "title", "value": "x"}, "does not match"),
    ("bad regex", {"kind": "regex", "field": "title", "pattern": "(unclosed"}, "invalid regex"),
    ("look-around", {"kind": "regex", "field": "title", "pattern": "(?<!vice )president"},
     "invalid regex: invalid perl operator"),
    ("backreference", {"kind": "regex", "field": "title", "pattern": r"(a)\1"},
     "invalid regex"),
    ("regex too long", {"kind": "regex", "field": "title", "pattern": "a" * 201}, "at most 200"),
    ("text on number", {"kind": "equals", "field": "company_size", "value": "5"}, "Input should"),
    ("range on text", {"kind": "range", "field": "title", "min": 1}, "Input should"),
    ("empty range", {"kind": "range", "field": "company_size"}, "needs 'min', 'max'"),
    ("inverted range", {"kind": "range", "field": "company_size", "min": 9, "max": 1}, "greater"),
    ("empty one_of", {"kind": "one_of", "field": "country", "values": []}, "at least 1"),
    ("unknown field", {"kind": "present", "field": "shoe_size"}, "Input should"),
    ("extra key", {"kind": "equals", "field": "title", "value": "x", "vaule": "y"},
     "not permitted"),
    ("too deep", {"kind": "not", "condition": {"kind": "not", "condition": {"kind": "not",
        "condition": {"kind": "not", "condition": {"kind": "free_email"}}}}}, "at most 4 levels"),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "message"), [c[1:] for c in REFUSED],
                         ids=[c[0] for c in REFUSED])  # fmt: skip
def test_condition_refused(condition: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        matches(condition, lead())
    assert message in str(caught.value)


def test_regex_runs_in_linear_time() -> None:
    """RE2: a pattern that makes a backtracking engine explode returns at once."""
    evil = {"kind": "regex", "field": "title", "pattern": "^(a+)+$"}
    started = time.perf_counter()
    assert not matches(evil, lead(title="a" * 5_000 + "!"))
    assert time.perf_counter() - started < 0.5  # Python's re would take longer than the universe
