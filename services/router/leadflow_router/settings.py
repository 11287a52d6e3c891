"""Configuration of the router service (environment only, read at start-up)."""

from __future__ import annotations

from pydantic import Field
from servicekit.settings import BatchConsumerSettings, BatchSize


class Settings(BatchConsumerSettings):
    service_name: str = "router"
    http_port: int = 8003
    #: Consumer group of the ``lead.qualified`` consumer (every replica joins it).
    consumer_group: str = "router"
    #: SLA when a lead carries no ``sla_minutes`` from its tenant's tier
    #: (``LEADFLOW_DEFAULT_SLA_MINUTES``).
    default_sla_minutes: int = Field(default=30, ge=1)
    #: How often the SLA timer looks for overdue, unacknowledged assignments.
    sla_check_interval_s: float = Field(default=5.0, gt=0)
    #: How often the work-queue timer looks for items due for another routing attempt.
    work_queue_poll_interval_s: float = Field(default=2.0, gt=0)
    #: After a failed automatic attempt an item waits this long, unless a rep of its
    #: team becomes available or frees capacity first (that wakes it at once).
    work_queue_retry_backoff_s: float = Field(default=60.0, gt=0)
    #: At most this many items/assignments per timer tick (each in its own transaction).
    timer_batch_size: int = Field(default=50, ge=1)
    #: ``lead.qualified`` records routed per transaction at most (each matched team is
    #: locked once per batch; decisions are those of one-by-one handling in order).
    #: Memory grows with it (see bench/README.md for the trade-off measured).
    batch_max_records: BatchSize = 200
