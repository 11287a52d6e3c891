"""``ghl``: GoHighLevel (LeadConnector) contact webhooks (``ContactCreate``/``ContactUpdate``).

Field names follow HighLevel's contact webhook payload: ``type``, ``locationId``, ``id``,
``firstName``, ``lastName``, ``name``, ``email``, ``phone``, ``companyName``, ``country``,
``source``, ``dateAdded``, ``tags``, ``customFields`` (``[{"id", "value"}]``),
``website``, ``address1``, ``city``, ``state``, ``postalCode``, ``timezone``, ``dnd``,
and ``attributionSource`` (``utmSource``, ``utmMedium``, ``campaign``, ...). Fields we
do not map are accepted and ignored (HighLevel adds fields over time).

Custom fields are opaque ids in HighLevel; they land in ``custom`` keyed by id, except a
few conventional ids (``title``/``job_title``, ``company_size``/``employees``,
``industry``, ``language``) that map to standard fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadflow_ingest.domain.sources.adapter import SourceAdapter
from leadflow_ingest.domain.sources.standard import StandardLead, StandardUtm

TITLE_IDS = {"title", "job_title", "jobtitle", "position"}
SIZE_IDS = {"company_size", "companysize", "employees", "employee_count", "num_employees"}
INDUSTRY_IDS = {"industry"}
LANGUAGE_IDS = {"language", "preferred_language"}


class GhlCustomField(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(max_length=200)
    value: Any = None


class GhlAttributionSource(BaseModel):
    model_config = ConfigDict(extra="allow")

    utmSource: str | None = None
    utmMedium: str | None = None
    campaign: str | None = None
    utmCampaign: str | None = None
    utmTerm: str | None = None
    utmContent: str | None = None


class GhlContactWebhook(BaseModel):
    """A HighLevel contact webhook (ContactCreate / ContactUpdate)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=100, examples=["ContactCreate"])
    locationId: str = Field(max_length=200)
    id: str = Field(max_length=200)
    firstName: str | None = Field(default=None, max_length=200)
    lastName: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=400)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    companyName: str | None = Field(default=None, max_length=300)
    country: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=300)
    dateAdded: str | None = None
    website: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=100)
    customFields: list[GhlCustomField] = Field(default_factory=list)
    attributionSource: GhlAttributionSource | None = None

    @model_validator(mode="after")
    def _needs_contact(self) -> GhlContactWebhook:
        if not (self.email and self.email.strip()) and not (self.phone and self.phone.strip()):
            raise ValueError("at least one of 'email' or 'phone' is required")
        return self


def _company_size(value: Any) -> int | None:
    try:
        size = int(str(value).strip().replace(",", "").replace(".", ""))
    except ValueError:
        return None
    return size if size >= 0 else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:300]


def to_standard(payload: GhlContactWebhook) -> StandardLead:
    first, last = payload.firstName, payload.lastName
    if not first and not last and payload.name:
        first, _, rest = payload.name.strip().partition(" ")
        last = rest or None
    title = industry = language = None
    size: int | None = None
    custom: dict[str, Any] = {
        "ghl_contact_id": payload.id,
        "ghl_location_id": payload.locationId,
    }
    if payload.source:
        custom["ghl_source"] = payload.source
    for field in payload.customFields:
        key = field.id.strip().lower()
        if key in TITLE_IDS and title is None:
            title = _text(field.value)
        elif key in SIZE_IDS and size is None:
            size = _company_size(field.value)
        elif key in INDUSTRY_IDS and industry is None:
            industry = _text(field.value)
        elif key in LANGUAGE_IDS and language is None:
            language = _text(field.value)
        else:
            custom[field.id] = field.value
    attribution = payload.attributionSource or GhlAttributionSource()
    return StandardLead(
        first_name=first,
        last_name=last,
        email=payload.email,
        phone=payload.phone,
        company=payload.companyName,
        title=title,
        company_size=size,
        industry=industry,
        country=payload.country,
        language=language[:35] if language else None,
        utm=StandardUtm(
            source=_text(attribution.utmSource),
            medium=_text(attribution.utmMedium),
            campaign=_text(attribution.utmCampaign or attribution.campaign),
            term=_text(attribution.utmTerm),
            content=_text(attribution.utmContent),
        ),
        tags=payload.tags,
        custom=custom,
    )


ADAPTER = SourceAdapter(
    name="ghl",
    description="GoHighLevel contact webhook (ContactCreate / ContactUpdate).",
    model=GhlContactWebhook,
    to_standard=to_standard,
)
