"""Payload of ``config.changed``: every admin change, who made it, before and after."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class ConfigChanged(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    actor: str
    service: str
    entity: str
    entity_id: str
    action: Literal["created", "updated", "deleted"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
