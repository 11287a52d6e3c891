"""Normalization and source adapters: table-driven cases and properties (pure, fast)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadflow_contracts import Lead
from leadflow_ingest.domain.normalize import (
    UnusableLead,
    normalize,
    normalize_country,
    normalize_email,
    normalize_language,
    normalize_phone,
    parse_body,
)
from leadflow_ingest.domain.sources.registry import ADAPTERS

EXAMPLE = (
    Path(__file__).resolve().parents[4]
    / "contracts/leadflow_contracts/examples/lead.received.v1.json"
)
NOW = datetime(2025, 6, 3, 9, 14, tzinfo=UTC)


def lead_from(source: str, body: Any, region: str | None = "DE") -> Lead:
    return normalize(
        parse_body(ADAPTERS[source], body),
        lead_id=uuid.uuid4(),
        tenant_id="t",
        source=source,
        default_region=region,
        received_at=NOW,
        sla_minutes=15,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jana.Becker@Solarwerk.EXAMPLE ", "jana.becker@solarwerk.example"),
        ("a@b.co", "a@b.co"),
        ("no-at-sign", None),
        ("a@localhost", None),
        ("two@@signs.example", None),
        ("", None),
        (None, None),
    ],
)
def test_email(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("030 5550 1942", "DE", "+493055501942"),
        ("+1 (415) 555-2671", "DE", "+14155552671"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("030 5550 1942", None, None),  # national number without a region
        ("12", "DE", None),
        ("call me", "DE", None),
    ],
)
def test_phone(raw: str, region: str | None, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "phone", "expected"),
    [
        ("DE", None, "DE"),
        ("deu", None, "DE"),
        ("Germany", None, "DE"),
        ("Deutschland", None, "DE"),
        ("UK", None, "GB"),
        ("United States", None, "US"),
        ("Atlantis", None, None),
        ("Atlantis", "+14155552671", "US"),
        (None, "+442079460958", "GB"),
    ],
)
def test_country(raw: str | None, phone: str | None, expected: str | None) -> None:
    assert normalize_country(raw, phone) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("de-DE", "de"), ("EN_us", "en"), ("x", None), ("日本", None)]
)
def test_language(raw: str, expected: str | None) -> None:
    assert normalize_language(raw) == expected


def test_generic_lead_keeps_what_is_usable() -> None:
    lead = lead_from(
        "generic",
        {"email": "broken", "phone": "030 5550 1942", "tags": [" a ", "a", ""], "company": " "},
    )
    assert (lead.email, lead.phone, lead.tags, lead.company) == (None, "+493055501942", ["a"], None)
    assert lead.country == "DE"
    assert lead.sla_minutes == 15


def test_unusable_without_valid_contact() -> None:
    with pytest.raises(UnusableLead) as caught:
        lead_from("generic", {"email": "broken", "phone": "nope"})
    assert {field for field, _ in caught.value.problems} == {"email", "phone"}


def test_ghl_contract_example_maps_to_standard_fields() -> None:
    body = json.loads(EXAMPLE.read_text())["payload"]["body"]
    lead = lead_from("ghl", body)
    assert lead.first_name == "Jana"
    assert lead.last_name == "Becker"
    assert lead.email == "jana.becker@solarwerk-gmbh.example"
    assert lead.phone == "+493055501942"
    assert lead.company == "Solarwerk GmbH"
    assert lead.title == "Head of Procurement"
    assert lead.company_size == 240
    assert lead.country == "DE"
    assert lead.utm.source == "google"
    assert lead.utm.campaign == "q3-commercial-heat-pumps"
    assert lead.tags == ["webinar", "pricing-page"]
    assert lead.custom["budget_eur"] == "50000"
    assert lead.custom["ghl_contact_id"] == "nmFmQEsNgz6AVpgLVUJ0"


def test_ghl_full_name_is_split_when_parts_are_missing() -> None:
    body = {
        "type": "ContactCreate",
        "locationId": "l",
        "id": "c",
        "name": "Ada  Lovelace King",
        "phone": "+44 20 7946 0958",
    }
    lead = lead_from("ghl", body)
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace King")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
fields = st.sampled_from(
    [
        "email",
        "phone",
        "country",
        "language",
        "first_name",
        "company_size",
        "tags",
        "utm",
        "custom",
        "title",
        "firstName",
        "lastName",
        "name",
        "companyName",
        "customFields",
        "locationId",
        "id",
        "type",
        "attributionSource",
    ]
)
plausible = st.one_of(
    json_values,
    st.emails().map(str),
    st.from_regex(r"\+?[0-9 ()-]{0,20}", fullmatch=True),
    st.sampled_from(["DE", "Germany", "zz", "de-AT", ""]),
)


@settings(max_examples=300, deadline=None)
@given(
    source=st.sampled_from(sorted(ADAPTERS)),
    body=st.dictionaries(fields, plausible, max_size=8) | json_values,
    region=st.sampled_from(["DE", "US", "GB", None]),
)
def test_never_crashes_either_a_lead_or_unusable(
    source: str, body: Any, region: str | None
) -> None:
    try:
        lead = lead_from(source, body, region)
    except UnusableLead:
        return
    assert lead.email or lead.phone
    assert lead.email is None or lead.email == lead.email.lower()
    assert lead.phone is None or lead.phone.startswith("+")
    assert lead.country is None or (len(lead.country) == 2 and lead.country.isupper())
