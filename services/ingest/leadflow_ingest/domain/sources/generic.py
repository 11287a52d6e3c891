"""``generic``: Leadflow's own documented JSON lead (the standard lead itself).

At least one of ``email`` or ``phone`` is required; unknown fields are rejected so that
typos surface as 422 instead of silently lost data.
"""

from __future__ import annotations

from pydantic import model_validator

from leadflow_ingest.domain.sources.adapter import SourceAdapter
from leadflow_ingest.domain.sources.standard import StandardLead


class GenericLead(StandardLead):
    """A lead in Leadflow's documented format."""

    @model_validator(mode="after")
    def _needs_contact(self) -> GenericLead:
        if not (self.email and self.email.strip()) and not (self.phone and self.phone.strip()):
            raise ValueError("at least one of 'email' or 'phone' is required")
        return self


def to_standard(payload: GenericLead) -> StandardLead:
    return StandardLead.model_validate(payload.model_dump())


ADAPTER = SourceAdapter(
    name="generic",
    description="Leadflow's documented lead JSON (names, email, phone, company, title, "
    "company_size, industry, country, language, utm, tags, custom).",
    model=GenericLead,
    to_standard=to_standard,
)
