"""Normalization: a source's ``StandardLead`` → the contract's ``Lead``. Pure, total.

Contract: ``normalize`` returns a valid ``Lead`` or raises ``UnusableLead`` — never any
other exception, whatever the input (property-tested with hypothesis). Rules:

* email: trimmed, validated with ``email-validator`` (syntax only, no DNS), lower-cased;
  an invalid email is dropped.
* phone: parsed with ``phonenumbers`` in the tenant's default region, kept only if
  valid, formatted E.164; an invalid phone is dropped.
* at least one usable email or phone, otherwise the lead is unusable.
* country: ISO-3166 alpha-2 from alpha-2/alpha-3 codes or names (``pycountry``, plus a
  few common aliases); unknown → inferred from the phone number's region, else None.
* language: the BCP-47 primary subtag, lower-cased (``de-DE`` → ``de``).
* text fields trimmed, empty → None; tags trimmed, de-duplicated, order kept.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import email_validator
import phonenumbers
import pycountry
from leadflow_contracts import Lead, Utm
from pydantic import ValidationError

from leadflow_ingest.domain.sources.adapter import SourceAdapter
from leadflow_ingest.domain.sources.standard import StandardLead

COUNTRY_ALIASES = {
    "UK": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "GREAT BRITAIN": "GB",
    "DEUTSCHLAND": "DE",
    "ÖSTERREICH": "AT",
    "SCHWEIZ": "CH",
    "ESPAÑA": "ES",
    "THE NETHERLANDS": "NL",
    "HOLLAND": "NL",
}


class UnusableLead(Exception):
    """The payload cannot become a lead; ``problems`` are (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in problems))
        self.problems = problems


def clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = " ".join(value.split())
    return stripped or None


def normalize_email(value: str | None) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    try:
        result = email_validator.validate_email(text, check_deliverability=False)
    except (email_validator.EmailNotValidError, ValueError):
        return None
    return result.normalized.lower()


def normalize_phone(value: str | None, default_region: str | None) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_country(value: str | None, phone_e164: str | None = None) -> str | None:
    text = clean_text(value)
    if text is not None:
        alias = COUNTRY_ALIASES.get(text.upper())
        if alias:
            return alias
        try:
            code: str = pycountry.countries.lookup(text).alpha_2
        except LookupError:
            code = ""
        if code:
            return code
    if phone_e164:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone_e164))
        if region and len(region) == 2 and region.isalpha():
            return str(region)
    return None


def normalize_language(value: str | None) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    primary = text.replace("_", "-").split("-", 1)[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha() else None


def normalize_tags(tags: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = clean_text(tag)
        if cleaned:
            seen.setdefault(cleaned[:100], None)
    return list(seen)


def normalize(
    standard: StandardLead,
    *,
    lead_id: uuid.UUID,
    tenant_id: str,
    source: str,
    default_region: str | None,
    received_at: datetime,
    sla_minutes: int | None = None,
    duplicate_of: uuid.UUID | None = None,
) -> Lead:
    email = normalize_email(standard.email)
    phone = normalize_phone(standard.phone, default_region)
    if email is None and phone is None:
        raise UnusableLead(
            [
                ("email", "missing or not a valid email address"),
                ("phone", f"missing or not a valid phone number (region {default_region})"),
            ]
        )
    utm = standard.utm
    try:
        return Lead(
            lead_id=lead_id,
            tenant_id=tenant_id,
            source=source,
            first_name=clean_text(standard.first_name),
            last_name=clean_text(standard.last_name),
            email=email,
            phone=phone,
            company=clean_text(standard.company),
            title=clean_text(standard.title),
            company_size=standard.company_size,
            industry=clean_text(standard.industry),
            country=normalize_country(standard.country, phone),
            language=normalize_language(standard.language),
            utm=Utm(
                source=clean_text(utm.source),
                medium=clean_text(utm.medium),
                campaign=clean_text(utm.campaign),
                term=clean_text(utm.term),
                content=clean_text(utm.content),
            ),
            tags=normalize_tags(standard.tags),
            custom=standard.custom,
            duplicate_of=duplicate_of,
            received_at=received_at,
            sla_minutes=sla_minutes,
        )
    except ValidationError as exc:
        raise UnusableLead(_problems(exc)) from exc


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]


def parse_body(adapter: SourceAdapter, body: Any) -> StandardLead:
    """Validate an upstream body with its adapter; raises ``UnusableLead`` with field paths."""
    try:
        return adapter.parse(body)
    except ValidationError as exc:
        raise UnusableLead(_problems(exc)) from exc
