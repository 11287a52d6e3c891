"""The one settings base every service extends (pydantic-settings, read at start-up only)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "leadflow-dev-secret-do-not-use-in-production"  # noqa: S105 - dev mode only


class ServiceSettings(BaseSettings):
    """Configuration shared by every service.

    Environment names follow the ecosystem where one exists (``KAFKA_BOOTSTRAP_SERVERS``,
    ``DATABASE_URL``, ``OTEL_EXPORTER_OTLP_ENDPOINT``); everything else is ``LEADFLOW_*``.
    """

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", extra="ignore", frozen=True)

    service_name: str = "leadflow"
    service_version: str = "0.1.0"
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "LEADFLOW_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    #: Apache Kafka supports the idempotent producer; the embedded Tansu build does not.
    kafka_enable_idempotence: bool = False
    kafka_request_timeout_ms: int = 10_000
    #: Prepended to every topic name at the I/O boundary (isolation of test runs).
    topic_prefix: str = ""
    kafka_linger_ms: int = 0
    #: A new consumer group member waits about half of this before its first
    #: assignment on Tansu; tests use a short value, production keeps Kafka's habits.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 1_000
    #: How long a consumer's fetch may wait at the broker when it has nothing new
    #: (aiokafka's default: 500 ms). Tansu answers such a fetch only when the wait is
    #: over, not when a record arrives, so at low load every hop waited for it;
    #: bench/README.md has the figures. Kafka answers as soon as there is data either way;
    #: a short wait only adds fetches while a topic is idle.
    kafka_fetch_max_wait_ms: int = Field(default=50, ge=0)
    #: When a batch begins, the consumer waits up to this long for the records the fetch
    #: sent at that moment brings and handles them in the same batch (0: never). aiokafka
    #: fetches a partition only while none of its records are buffered, so without it a
    #: record that arrives while a batch is handled waits two batch cycles, not one.
    kafka_batch_top_up_ms: int = Field(default=10, ge=0)
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        validation_alias=AliasChoices("DATABASE_URL", "LEADFLOW_DATABASE_URL"),
    )
    #: Connections the pool keeps open.
    db_pool_size: int = Field(default=5, ge=1)
    #: Extra connections opened when all kept ones are in use. Each is closed again when
    #: it is returned, so a load that keeps more than ``db_pool_size`` busy opens and
    #: closes a connection (a PostgreSQL backend process) per use; size the pool for it.
    db_pool_max_overflow: int = Field(default=5, ge=0)
    #: Ping every pooled connection before use (see ``servicekit.db.create_engine``).
    #: A service whose callers retry anyway may turn it off on its hot path.
    db_pool_pre_ping: bool = True
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "LEADFLOW_OTLP_ENDPOINT"),
    )
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    dev_mode: bool = False
    admin_jwt_secret: SecretStr | None = None

    #: How long every emitted record stays in the service's database (outbox, stored
    #: outputs) for a redrive after broker data loss (``servicekit.redrive``).
    outbox_retention_days: float = Field(default=7.0, gt=0)
    #: How often the service checks that the broker still has its data (cluster id,
    #: registry topics); 0 turns the check off.
    broker_watch_interval_s: float = Field(default=2.0, ge=0)
    #: Retry-After (seconds) of every 503 answered while the database or broker is down.
    unavailable_retry_after_s: int = Field(default=5, ge=1)

    retry_max_attempts: int = Field(default=5, ge=1)
    retry_base_delay_s: float = Field(default=0.2, ge=0)
    retry_max_delay_s: float = Field(default=5.0, ge=0)

    def jwt_secret(self) -> str:
        """The admin JWT secret; outside dev mode a real one is mandatory."""
        if self.admin_jwt_secret is not None and self.admin_jwt_secret.get_secret_value():
            return self.admin_jwt_secret.get_secret_value()
        if self.dev_mode:
            return DEV_JWT_SECRET
        raise RuntimeError(
            "LEADFLOW_ADMIN_JWT_SECRET is not set. Set it to a long random value "
            "(or set LEADFLOW_DEV_MODE=true for local development only)."
        )


#: Records one consumer batch handles at most (one transaction); a service sets the
#: default that suits what one batch does (``batch_max_records: BatchSize = 200``).
BatchSize = Annotated[int, Field(ge=1, le=2000)]


class BatchConsumerSettings(ServiceSettings):
    """Settings of a service whose consumer handles records in batches (``servicekit.batch``)."""

    batch_max_records: BatchSize = 500
    #: How long the consumer waits for records when none are buffered (a batch is
    #: handled as soon as any records are there; this bounds the wait on an idle topic).
    batch_timeout_ms: int = Field(default=100, ge=0)
