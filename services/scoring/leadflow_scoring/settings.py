"""Configuration of the scoring service (environment only, read at start-up)."""

from __future__ import annotations

from servicekit.settings import BatchConsumerSettings, BatchSize


class Settings(BatchConsumerSettings):
    service_name: str = "scoring"
    http_port: int = 8002
    #: The consumer group (and inbox namespace) of the ``sales.lead.created`` consumer.
    consumer_group: str = "scoring"
    #: ``sales.lead.created`` records scored per transaction at most (one inbox claim and
    #: one rule-set read per batch; outputs are those of one-by-one handling).
    batch_max_records: BatchSize = 500
