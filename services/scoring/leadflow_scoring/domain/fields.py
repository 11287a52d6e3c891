"""The lead fields a rule may look at, and how each is read from a ``Lead``.

Every string field reads as a list of strings (empty when the lead has no value), so one
condition works alike on single-valued fields and on ``tags``: it matches when any value
matches. ``company_size`` is the one numeric field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

from leadflow_contracts import Lead

TextField = Literal[
    "title",
    "industry",
    "country",
    "source",
    "language",
    "company",
    "email_domain",
    "utm.source",
    "utm.medium",
    "utm.campaign",
    "utm.term",
    "utm.content",
    "tags",
]
NumberField = Literal["company_size"]
#: Fields that only make sense for presence checks (contact data, duplicate marker).
PresenceOnlyField = Literal["email", "phone", "first_name", "last_name", "duplicate_of"]
AnyField = Literal[TextField, NumberField, PresenceOnlyField]

TEXT_FIELDS: tuple[str, ...] = get_args(TextField)


def _one(value: object) -> list[str]:
    return [] if value is None or value == "" else [str(value)]


_TEXT: dict[str, Callable[[Lead], list[str]]] = {
    "title": lambda lead: _one(lead.title),
    "industry": lambda lead: _one(lead.industry),
    "country": lambda lead: _one(lead.country),
    "source": lambda lead: _one(lead.source),
    "language": lambda lead: _one(lead.language),
    "company": lambda lead: _one(lead.company),
    "email_domain": lambda lead: _one(lead.email_domain),
    "utm.source": lambda lead: _one(lead.utm.source),
    "utm.medium": lambda lead: _one(lead.utm.medium),
    "utm.campaign": lambda lead: _one(lead.utm.campaign),
    "utm.term": lambda lead: _one(lead.utm.term),
    "utm.content": lambda lead: _one(lead.utm.content),
    "tags": lambda lead: [tag for tag in lead.tags if tag],
}


def text_values(lead: Lead, field: str) -> list[str]:
    """The values of a text field (``[]`` when absent)."""
    return _TEXT[field](lead)


def number_value(lead: Lead, field: str) -> int | None:
    assert field == "company_size"
    return lead.company_size


def is_present(lead: Lead, field: str) -> bool:
    if field in _TEXT:
        return bool(_TEXT[field](lead))
    if field == "company_size":
        return lead.company_size is not None
    return bool(_one(getattr(lead, field)))
