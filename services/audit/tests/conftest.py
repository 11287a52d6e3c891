from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from leadflow_audit.__main__ import MIGRATIONS
from leadflow_audit.app import build_runtime, create_app
from leadflow_audit.settings import Settings
from leadflow_contracts import (
    REGISTRY,
    ConfigChanged,
    Envelope,
    LeadAssigned,
    LeadCreated,
    LeadQualified,
    LeadReassigned,
    LeadReceived,
    LeadRoutingFailed,
    LeadScored,
    LeadSlaBreached,
    Producer,
    TopicSpec,
    lead_id_for,
    received_event_id,
)
from leadflow_contracts import topics as t
from servicekit.auth import mint_token
from servicekit.events import Outgoing, new_envelope
from servicekit.kafka import ensure_topics
from servicekit.migrations import upgrade
from servicekit.runtime import Runtime

PRODUCER = Producer(service="audit-test", version="0")


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(
        **service_settings,
    )


@dataclass
class Audit:
    """A running audit service: its runtime and an HTTP client for its API."""

    settings: Settings
    runtime: Runtime
    http: httpx.AsyncClient

    def token(self, tenants: list[str], role: str = "viewer") -> dict[str, str]:
        secret = self.settings.jwt_secret()
        return {
            "Authorization": f"Bearer {mint_token(secret, sub='t', role=role, tenants=tenants)}"
        }

    async def publish(self, spec: TopicSpec, envelope: Envelope[Any]) -> None:
        await self.runtime.publisher.publish(Outgoing.of(spec, envelope))


@pytest.fixture
async def audit(settings: Settings) -> AsyncIterator[Audit]:
    upgrade(settings.database_url, MIGRATIONS)
    await ensure_topics(
        settings.kafka_bootstrap_servers, REGISTRY, name_prefix=settings.topic_prefix
    )
    runtime = build_runtime(settings)
    app = create_app(settings, runtime=runtime)
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://audit") as client:
            yield Audit(settings, runtime, client)
    finally:
        await runtime.stop()


Journey = list[tuple[TopicSpec, Envelope[Any]]]


def journey(
    tenant: str, webhook_id: str, start: datetime, steps: list[str], *, qualified: bool = True
) -> Journey:
    """A lead's events, one second apart, for ``steps`` among: received, created, scored,
    qualified, assigned, routing_failed, sla_breached, reassigned."""
    lead_id = lead_id_for(tenant, "generic", webhook_id)
    clock = iter(start + timedelta(seconds=i) for i in range(100))
    lead = {"lead_id": lead_id, "tenant_id": tenant, "source": "generic", "received_at": start}
    score = LeadScored(
        score=70 if qualified else 20,
        fit=70,
        engagement=60,
        threshold=50,
        qualified=qualified,
        reasons=[
            {"rule_id": "fit.title", "description": "Senior title", "category": "fit", "points": 30}
        ],
        rules_version=1,
    )
    rep = {"rep_id": "rep-1", "team_id": "team-1"}
    payloads: dict[str, tuple[TopicSpec, Any]] = {
        "received": (
            t.LEAD_RECEIVED,
            LeadReceived(source="generic", webhook_id=webhook_id, received_at=start, body={}),
        ),
        "created": (t.LEAD_CREATED, LeadCreated.model_validate({"lead": lead})),
        "scored": (t.LEAD_SCORED, score),
        "qualified": (
            t.LEAD_QUALIFIED,
            LeadQualified.model_validate({"lead": lead, "score": score}),
        ),
        "assigned": (
            t.LEAD_ASSIGNED,
            LeadAssigned.model_validate(
                {
                    **rep,
                    "assignment_id": uuid.uuid4(),
                    "strategy": "least_loaded",
                    "candidates": [{"rep_id": "rep-2", "excluded_reason": "at_capacity"}],
                    "rules_version": 1,
                    "sla_due_at": start + timedelta(minutes=30),
                }
            ),
        ),
        "routing_failed": (
            t.LEAD_ROUTING_FAILED,
            LeadRoutingFailed(
                reason="no_rep_available",
                work_item_id=uuid.uuid4(),
                team_id="team-1",
                candidates=[],
                rules_version=1,
            ),
        ),
        "sla_breached": (
            t.LEAD_SLA_BREACHED,
            LeadSlaBreached.model_validate(
                {
                    **rep,
                    "assignment_id": uuid.uuid4(),
                    "sla_due_at": start,
                    "breached_at": start,
                }
            ),
        ),
        "reassigned": (
            t.LEAD_REASSIGNED,
            LeadReassigned.model_validate(
                {
                    "previous_assignment_id": uuid.uuid4(),
                    "previous_rep_id": "rep-1",
                    "assignment_id": uuid.uuid4(),
                    "rep_id": "rep-2",
                    "team_id": "team-1",
                    "reason": "sla_breached",
                    "candidates": [],
                    "sla_due_at": None,
                }
            ),
        ),
    }
    events: Journey = []
    cause: Envelope[Any] | None = None
    for step in steps:
        spec, payload = payloads[step]
        if cause is None:
            envelope = new_envelope(
                spec,
                payload,
                producer=PRODUCER,
                event_id=received_event_id(lead_id),
                tenant_id=tenant,
                lead_id=lead_id,
                correlation_id=webhook_id,
                occurred_at=next(clock),
            )
        else:
            envelope = new_envelope(
                spec, payload, producer=PRODUCER, cause=cause, occurred_at=next(clock)
            )
        events.append((spec, envelope))
        cause = envelope
    return events


def config_changed(tenant: str, entity_id: str, at: datetime) -> tuple[TopicSpec, Envelope[Any]]:
    payload = ConfigChanged(
        actor="manager@example.com",
        service="router",
        entity="routing_rule",
        entity_id=entity_id,
        action="updated",
        before={"team": "a"},
        after={"team": "b"},
    )
    envelope = new_envelope(
        t.CONFIG_CHANGED,
        payload,
        producer=PRODUCER,
        event_id=uuid.uuid4(),
        tenant_id=tenant,
        correlation_id=f"cfg-{entity_id}",
        occurred_at=at,
    )
    return t.CONFIG_CHANGED, envelope


@pytest.fixture
def make_journey() -> Callable[..., Journey]:
    return journey


@pytest.fixture
def make_config_changed() -> Callable[..., tuple[TopicSpec, Envelope[Any]]]:
    return config_changed
