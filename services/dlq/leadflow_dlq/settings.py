"""Configuration of the dlq service (environment only, read at start-up)."""

from __future__ import annotations

from pydantic import Field
from servicekit.settings import BatchConsumerSettings, BatchSize


class Settings(BatchConsumerSettings):
    service_name: str = "dlq"
    http_port: int = 8005
    consumer_group: str = "dlq"
    #: Dead letters stored per batch (one transaction).
    batch_max_records: BatchSize = 100
    #: Upper bound of one bulk replay (``POST /v1/dead-letters:replay``).
    bulk_replay_max: int = Field(default=500, ge=1)
    #: Upper bound of one page of ``GET /v1/dead-letters``.
    list_max: int = Field(default=500, ge=1)
