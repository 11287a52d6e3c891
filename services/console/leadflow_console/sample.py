"""The sample lead of the preview forms (routing and scoring): form fields → a ``Lead``
as the services take it. Pure; the fields are those routing and scoring rules test."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

TEXT = ("email", "title", "company", "industry", "country", "language", "source")
DEFAULTS = {
    "email": "ada@example.com",
    "title": "VP of Sales",
    "company": "Example GmbH",
    "industry": "Software",
    "country": "DE",
    "language": "de",
    "source": "generic",
    "company_size": "500",
    "tags": "demo-request",
    "utm_source": "",
    "score": "70",
}


def sample_of(form: Mapping[str, str]) -> dict[str, str]:
    return {k: form.get(f"sample-{k}", v).strip() for k, v in DEFAULTS.items()}


def lead_of(sample: Mapping[str, str], tenant: str) -> dict[str, Any]:
    lead: dict[str, Any] = {
        "lead_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "received_at": datetime.now(UTC).isoformat(),
        "tags": [t.strip() for t in sample.get("tags", "").split(",") if t.strip()],
    }
    for key in TEXT:
        if sample.get(key):
            lead[key] = sample[key]
    lead.setdefault("source", "generic")
    size = sample.get("company_size", "")
    lead["company_size"] = int(size) if size.isdigit() else None
    if sample.get("utm_source"):
        lead["utm"] = {"source": sample["utm_source"]}
    return lead


def score_of(sample: Mapping[str, str]) -> int:
    text = sample.get("score", "")
    return max(0, min(100, int(text))) if text.isdigit() else 0


#: Lead fields in a service's 422 → the sample form's inputs.
SAMPLE_FIELDS = {f"body.lead.{k}": f"sample-{k}" for k in (*TEXT, "company_size", "tags")}
