"""The I/O dependencies of one service process, built once by its composition root.

``Runtime.build(settings)`` wires tracer provider, metrics, broker, publisher, DLQ and
the database; tests pass their own pieces as overrides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from leadflow_contracts import REGISTRY, Producer
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from servicekit.consumer import RetryPolicy
from servicekit.db import create_engine, ping, session_factory
from servicekit.dlq import DeadLetterPublisher
from servicekit.faults import Health
from servicekit.kafka import EventPublisher, RawProducer, create_broker
from servicekit.logging import error_text, get_logger
from servicekit.metrics import ServiceMetrics
from servicekit.outbox import Outbox
from servicekit.redrive import BrokerWatch, Redrive
from servicekit.settings import ServiceSettings
from servicekit.telemetry import create_tracer_provider

log = get_logger(__name__)


@dataclass
class Runtime:
    settings: ServiceSettings
    tracer_provider: TracerProvider
    metrics: ServiceMetrics
    broker: KafkaBroker
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    publisher: EventPublisher
    raw_producer: RawProducer
    dead_letters: DeadLetterPublisher
    outbox: Outbox
    redrive: Redrive
    health: Health = field(default_factory=Health)
    #: Asked on every ``/metrics`` scrape to set a service's own gauges (``on_scrape``).
    scrape_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: ServiceSettings,
        *,
        tracer_provider: TracerProvider | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> Runtime:
        provider = tracer_provider or create_tracer_provider(
            settings.service_name, settings.service_version, settings.otlp_endpoint
        )
        engine = create_engine(
            settings.database_url,
            settings.db_pool_size,
            max_overflow=settings.db_pool_max_overflow,
            pre_ping=settings.db_pool_pre_ping,
        )
        sessions = session_factory(engine)
        raw_producer = RawProducer(settings, provider)
        publisher = EventPublisher(raw_producer, settings.topic_prefix)
        metrics = metrics or ServiceMetrics(settings.service_name)
        return cls(
            settings=settings,
            tracer_provider=provider,
            metrics=metrics,
            broker=create_broker(settings, provider),
            engine=engine,
            sessions=sessions,
            outbox=Outbox(sessions, publisher, metrics, settings.outbox_retention_days),
            publisher=publisher,
            raw_producer=raw_producer,
            dead_letters=DeadLetterPublisher(raw_producer),
            redrive=Redrive(sessions, publisher, metrics),
        )

    @property
    def producer(self) -> Producer:
        return Producer(service=self.settings.service_name, version=self.settings.service_version)

    def retry_policy(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(s.retry_max_attempts, s.retry_base_delay_s, s.retry_max_delay_s)

    def spawn(self, coro: Any) -> None:
        """Run a background loop (outbox relay, timers) from start until stop."""
        self._tasks.append(asyncio.ensure_future(coro))

    def broker_watch(self) -> BrokerWatch:
        s = self.settings
        # The topics this service publishes to: without them it can emit nothing.
        topics = [s.topic_prefix + t.name for t in REGISTRY if s.service_name in t.producers]
        return BrokerWatch(
            self.sessions,
            self.raw_producer,
            self.redrive,
            topics,
            self.health,
            timedelta(days=s.outbox_retention_days),
        )

    async def start(self) -> None:
        await self.broker.start()
        self.spawn(self.outbox.run_relay())
        watch = self.broker_watch()
        # A service that publishes to no registry topic (audit) has nothing to re-drive.
        if self.settings.broker_watch_interval_s > 0 and watch.topics:
            self.spawn(watch.run(self.settings.broker_watch_interval_s))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.broker.stop()
        await self.raw_producer.stop()
        await self.engine.dispose()
        self.tracer_provider.force_flush()

    async def readiness(self) -> dict[str, bool]:
        broker_ok, db_ok = await asyncio.gather(self.broker.ping(timeout=2.0), ping(self.engine))
        checks = {"broker": bool(broker_ok), "database": db_ok}
        for check, ok in checks.items():
            self.metrics.ready.labels(self.metrics.service, check).set(1 if ok else 0)
        # A consumer waiting out an outage, or topics the broker lost (``health``).
        healthy = not self.health.faults()
        self.metrics.ready.labels(self.metrics.service, "faults").set(1 if healthy else 0)
        return checks

    def on_scrape(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook`` before every ``/metrics`` answer (a gauge read from the database)."""
        self.scrape_hooks.append(hook)

    async def refresh_metrics(self) -> None:
        """Readiness and the outbox backlog, then the service's own hooks. A hook that
        fails (database down) leaves its gauge at the last value: readiness says why."""
        checks = await self.readiness()
        if not checks["database"]:
            return
        try:
            self.metrics.outbox_pending.labels(self.metrics.service).set(
                await self.outbox.pending()
            )
            for hook in self.scrape_hooks:
                await hook()
        except Exception as exc:
            log.warning("metrics refresh failed", error=error_text(exc))
