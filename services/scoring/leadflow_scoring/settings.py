"""Configuration of the scoring service (environment only, read at start-up)."""

from __future__ import annotations

from pydantic import Field
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "scoring"
    http_port: int = 8002
    #: The consumer group (and inbox namespace) of the ``sales.lead.created`` consumer.
    consumer_group: str = "scoring"
    #: ``sales.lead.created`` records scored per transaction at most (one inbox claim and
    #: one rule-set read per batch; outputs are those of one-by-one handling).
    batch_max_records: int = Field(default=500, ge=1, le=2000)
    #: How long the consumer waits for records when none are buffered (a batch is
    #: handled as soon as any records are there; this bounds the wait on an idle topic).
    batch_timeout_ms: int = Field(default=100, ge=0)
