"""What a source adapter is: a pydantic model of the upstream payload plus a mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from leadflow_ingest.domain.sources.standard import StandardLead


@dataclass(frozen=True)
class SourceAdapter:
    #: The ``{source}`` path segment of the webhook URL.
    name: str
    description: str
    #: The upstream payload as sent; validation errors become 422 with field paths.
    model: type[BaseModel]
    to_standard: Callable[[Any], StandardLead]

    def parse(self, body: object) -> StandardLead:
        """Validate ``body`` (parsed JSON) and map it; raises ``pydantic.ValidationError``."""
        return self.to_standard(self.model.model_validate(body))
