"""Request and response shapes of the dead-letter API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from servicekit.inputs import INT4_MAX, Body, Key, Name, SearchText
from sqlalchemy import Row

from leadflow_dlq.domain.lifecycle import normalize_reason
from leadflow_dlq.domain.payloads import (
    encode_bytes,
    headers_from_json,
    original_headers,
    show_value,
)
from leadflow_dlq.domain.payloads import headers_to_json as _headers_json

StatusName = Literal["pending", "replayed", "discarded"]
PREVIEW_CHARS = 200


class Bytes(BaseModel):
    """Bytes for humans: UTF-8 text when valid, base64 otherwise; ``json`` when JSON."""

    encoding: Literal["utf-8", "base64"] | None
    data: str | None
    json_: Any = Field(default=None, alias="json", serialization_alias="json")
    size: int = 0

    model_config = {"populate_by_name": True}


class HeaderOut(BaseModel):
    key: str
    value: str
    encoding: Literal["utf-8", "base64"]


class DeadLetterOut(BaseModel):
    id: uuid.UUID
    status: StatusName
    topic: str | None = Field(description="Registry name of the topic the record failed on.")
    original_topic: str | None = Field(description="The topic as named on the broker.")
    original_partition: int | None
    original_offset: int | None
    consumer_group: str | None
    exception_class: str | None
    exception_message: str | None
    attempts: int | None
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    received_at: datetime
    tenant_id: str | None
    event_id: uuid.UUID | None
    event_type: str | None
    lead_id: uuid.UUID | None
    value_problem: str | None = Field(description="Why the value is not an envelope, if so.")
    value_preview: str | None
    replay_count: int
    replay_of: uuid.UUID | None = Field(description="The dead letter whose replay failed again.")

    @classmethod
    def of(cls, row: Row[Any]) -> DeadLetterOut:
        data = dict(row._mapping)
        value = show_value(row.value)
        preview = value["data"]
        data["value_preview"] = preview[:PREVIEW_CHARS] if isinstance(preview, str) else None
        return cls.model_validate(data)


class HistoryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    reason: str | None
    detail: dict[str, Any] | None


class DlqPosition(BaseModel):
    topic: str
    partition: int
    offset: int


class DeadLetterDetail(DeadLetterOut):
    key: Bytes | None
    value: Bytes
    headers: list[HeaderOut] = Field(description="The original record's headers.")
    stacktrace: str | None
    dlq: DlqPosition
    history: list[HistoryOut]

    @classmethod
    def detail(cls, row: Row[Any], history: list[Row[Any]]) -> DeadLetterDetail:
        base = DeadLetterOut.of(row).model_dump()
        key = None
        if row.key is not None:
            encoding, text = encode_bytes(row.key)
            key = Bytes(encoding=encoding, data=text, size=len(row.key))
        headers = _headers_json(original_headers(headers_from_json(row.headers)))
        return cls.model_validate(
            {
                **base,
                "key": key,
                "value": Bytes.model_validate(show_value(row.value)),
                "headers": headers,
                "stacktrace": row.stacktrace,
                "dlq": {
                    "topic": row.dlq_topic,
                    "partition": row.dlq_partition,
                    "offset": row.dlq_offset,
                },
                "history": [HistoryOut.model_validate(dict(h._mapping)) for h in history],
            }
        )


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next: uuid.UUID | None = Field(description="Pass as ?after= for the next page.")


class DiscardIn(Body):
    reason: str = Field(min_length=1, max_length=2000, description="Why it is discarded.")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return normalize_reason(value)


class BulkReplayIn(Body):
    """Which records to replay (oldest first) and at most how many."""

    topic: Name | None = None
    status: Literal["pending", "replayed"] = "pending"
    tenant: Key | None = None
    error: SearchText | None = None
    limit: int = Field(
        default=100, ge=1, le=INT4_MAX, description="Bound of this call (server max applies)."
    )


class BulkReplayOut(BaseModel):
    replayed: int
    ids: list[uuid.UUID]
    skipped: list[uuid.UUID]
    more: bool = Field(description="More records matched than the bound allowed.")
    limit: int
