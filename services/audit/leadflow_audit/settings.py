"""Configuration of the audit service (environment only, read at start-up)."""

from __future__ import annotations

from pydantic import Field
from servicekit.settings import ServiceSettings

from leadflow_audit.adapters.tables import WRITER_ROLE


class Settings(ServiceSettings):
    service_name: str = "audit"
    http_port: int = 8004
    #: Records appended per transaction at most (one lock and one chain step per batch).
    audit_batch_max_records: int = Field(default=500, ge=1)
    #: How long the consumer waits for more records before handling a partial batch.
    audit_batch_timeout_ms: int = Field(default=100, ge=0)
    #: The broker answers audit's fetches once this much is ready or after
    #: ``audit_fetch_max_wait_ms`` (aiokafka's defaults: at once). Larger values give
    #: fewer, larger append batches, but events of different topics are then appended
    #: out of occurrence order more often (the chain's positions; the timeline itself is
    #: ordered by occurrence). bench/README.md has what larger values measured.
    audit_fetch_min_bytes: int = Field(default=1, ge=1)
    audit_fetch_max_wait_ms: int = Field(default=500, ge=0)
    #: How often the whole hash chain is verified (``audit_chain_broken``); 0: never
    #: on a timer (``/v1/audit:verify`` and ``python -m leadflow_audit verify`` still do).
    audit_verify_interval_s: float = Field(default=300.0, ge=0)
    #: The role every database connection acts as (``SET ROLE``); empty: the URL's user.
    db_role: str = WRITER_ROLE
