"""Configuration of the ingest service (environment only, read at start-up)."""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field, SecretStr
from servicekit.settings import BatchConsumerSettings, BatchSize

#: A fixed Fernet key for dev mode only; outside dev mode a real key is mandatory.
DEV_SECRET_ENCRYPTION_KEY = "bGVhZGZsb3ctZGV2LWtleS1kby1ub3QtdXNlLWluLXA="  # noqa: S105


class Settings(BatchConsumerSettings):
    service_name: str = "ingest"
    http_port: int = 8001

    #: Where senders reach this service (scheme, host, optional path prefix), for the
    #: ``webhook_url`` in responses; a request's Host header is never trusted for it.
    #: Unset: ``http://{http_host}:{http_port}``, right for a local stack only.
    public_base_url: AnyHttpUrl | None = None
    #: Label ``webhooks_total`` by tenant slug. /metrics is served without
    #: authentication, so by default every series says ``tenant="_all"``; turn this on
    #: where only your own monitoring can reach /metrics.
    metrics_tenant_labels: bool = False
    #: Standard Webhooks timestamp tolerance (seconds, either direction).
    webhook_tolerance_s: int = Field(default=300, ge=1)
    #: Largest accepted webhook body; larger ones get 413 without being read further.
    webhook_max_body_bytes: int = Field(default=256 * 1024, ge=1)
    #: How long accepting a webhook may take — replay guard, the broker's ack of
    #: ``lead.received``, the commit — before it answers 503 (a 202 or a 503 within it).
    broker_ack_timeout_s: float = Field(default=5.0, gt=0)
    #: Tenants, tiers and secrets are cached this long (changes made through another
    #: replica apply within this time; this replica invalidates at once).
    config_cache_ttl_s: float = Field(default=2.0, ge=0)
    #: Fernet key(s) encrypting webhook secrets at rest, comma-separated: the first
    #: encrypts, all decrypt (key rotation). Mandatory outside dev mode.
    secret_encryption_key: SecretStr | None = None
    #: A lead with the same normalized email or phone as an earlier lead of the same
    #: tenant within this many days is flagged ``duplicate_of`` that earlier lead.
    duplicate_window_days: int = Field(default=30, ge=0)
    #: No ping per pooled-connection checkout on the webhook path (two checkouts per
    #: webhook): after the database dropped connections, the first webhook that meets a
    #: dead one gets 503 (its sender retries) and the pool is renewed at once; the
    #: worker retries like any consumer. Nothing is ever accepted without being durable.
    db_pool_pre_ping: bool = False
    #: Concurrent webhooks are accepted in groups (``handlers.accept_webhook``): up to
    #: ``webhook_groups_in_flight`` groups at once, each of up to ``webhook_group_max``
    #: webhooks sharing one pooled connection, round trip, produce batch and commit.
    #: Webhooks beyond them queue for the next free group (within ``broker_ack_timeout_s``).
    webhook_group_max: int = Field(default=64, ge=1)
    webhook_groups_in_flight: int = Field(default=4, ge=1)
    #: Each group holds a pooled connection from the replay guard until the broker
    #: acknowledged; the worker and the admin API use the rest. Overflow connections are
    #: opened and closed per use, so the pool keeps its connections and has no overflow
    #: (see bench/README.md).
    db_pool_size: int = Field(default=16, ge=1)
    db_pool_max_overflow: int = Field(default=0, ge=0)
    #: Consumer group of the ingest worker.
    worker_group: str = "ingest-worker"
    #: ``lead.received`` records handled per transaction at most (one inbox claim, one
    #: duplicate look-up and one insert per batch; results are those of one-by-one
    #: handling in order).
    batch_max_records: BatchSize = 500

    def public_url(self, path: str) -> str:
        """``path`` under the configured public base URL (see ``public_base_url``)."""
        base = str(self.public_base_url or f"http://{self.http_host}:{self.http_port}")
        return base.rstrip("/") + path

    def encryption_keys(self) -> list[str]:
        if self.secret_encryption_key is not None:
            keys = [k.strip() for k in self.secret_encryption_key.get_secret_value().split(",")]
            if any(keys):
                return [k for k in keys if k]
        if self.dev_mode:
            return [DEV_SECRET_ENCRYPTION_KEY]
        raise RuntimeError(
            "LEADFLOW_SECRET_ENCRYPTION_KEY is not set. Generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'` "
            "(or set LEADFLOW_DEV_MODE=true for local development only)."
        )
