"""Journey 1: an accepted webhook becomes ``sales.lead.created`` with every field normalized."""

from __future__ import annotations

from datetime import datetime

from leadflow_contracts import derived_event_id, received_event_id

from tests.e2e.support.evidence import criterion

MESSY_LEAD = {
    "first_name": "  Jane ",
    "last_name": "Doe  ",
    "email": "  Jane.Doe@{domain} ",
    "phone": "030 12345678",
    "company": "  Doe   Industries ",
    "title": "Head of Revenue",
    "company_size": 250,
    "industry": " Manufacturing ",
    "country": "Germany",
    "language": "de-DE",
    "utm": {"source": " linkedin ", "medium": "paid", "campaign": "q3-launch"},
    "tags": [" vip ", "vip", "webinar", "  "],
    "custom": {"crm_id": 4711, "interests": ["pricing", "api"]},
}


async def test_accepted_webhook_yields_normalized_lead(provision, bus, api) -> None:
    tenant = await provision(sla_minutes=45)
    body = dict(MESSY_LEAD, email=MESSY_LEAD["email"].format(domain=tenant.domain.upper()))
    webhook_id = "msg_" + tenant.slug
    answer = await tenant.send(body, webhook_id=webhook_id)

    lead_id = tenant.lead_id(webhook_id)
    assert answer.json() == {
        "status": "accepted",
        "lead_id": str(lead_id),
        "webhook_id": webhook_id,
        "correlation_id": webhook_id,
    }
    criterion("J1.1")

    [received] = await bus.wait("lead.received", lead_id=lead_id)
    [created] = await bus.wait("sales.lead.created", lead_id=lead_id)
    envelope = created.value
    assert received.value["event_id"] == str(received_event_id(lead_id))
    assert envelope["event_type"] == "lead.created"
    assert envelope["tenant_id"] == tenant.slug
    assert envelope["correlation_id"] == webhook_id
    assert envelope["causation_id"] == received.value["event_id"]
    assert envelope["event_id"] == str(derived_event_id(received_event_id(lead_id), "lead.created"))
    assert envelope["producer"]["service"] == "ingest"
    assert created.key == str(lead_id)
    assert created.headers["event-type"] == "lead.created"
    assert created.headers["schema-version"] == str(envelope["schema_version"])
    criterion("J1.2")

    lead = envelope["payload"]["lead"]
    received_at = lead.pop("received_at")
    assert datetime.fromisoformat(received_at).utcoffset() is not None
    assert lead == {
        "lead_id": str(lead_id),
        "tenant_id": tenant.slug,
        "source": "generic",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": f"jane.doe@{tenant.domain}",
        "phone": "+493012345678",
        "company": "Doe Industries",
        "title": "Head of Revenue",
        "company_size": 250,
        "industry": "Manufacturing",
        "country": "DE",
        "language": "de",
        "utm": {
            "source": "linkedin",
            "medium": "paid",
            "campaign": "q3-launch",
            "term": None,
            "content": None,
        },
        "tags": ["vip", "webinar"],
        "custom": {"crm_id": 4711, "interests": ["pricing", "api"]},
        "duplicate_of": None,
        "sla_minutes": 45,
    }
    criterion("J1.3")

    # The operator's view of the same lead through ingest's API is the event's lead.
    stored = await api.ingest_lead(tenant.slug, lead_id)
    assert stored.status_code == 200, stored.text
    stored_lead = stored.json()
    assert datetime.fromisoformat(stored_lead.pop("received_at")) == datetime.fromisoformat(
        received_at
    )
    assert stored_lead == lead
    criterion("J1.4")

    # A second lead with the same person (email in other case, phone in other format) is
    # a new lead flagged as a duplicate of the first.
    again = dict(body, email=f"JANE.DOE@{tenant.domain}", phone="+49 30 12345678")
    second_id, _ = await tenant.send_lead(again)
    [second] = await bus.wait("sales.lead.created", lead_id=second_id)
    assert second.payload["lead"]["duplicate_of"] == str(lead_id)
    assert second.payload["lead"]["email"] == f"jane.doe@{tenant.domain}"
    criterion("J1.5")
