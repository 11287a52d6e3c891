"""Journey 7: forged, stale, future and cross-tenant webhooks are refused alike (401);
a repeated webhook-id is answered 200 duplicate and yields exactly one lead downstream."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta

import orjson


def _random_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


async def test_security_refusals_and_replay(provision, bus, timeline) -> None:
    tenant = await provision()
    other = await provision()
    body = tenant.lead("security")
    now = datetime.now(UTC)
    # Outside the 300 s tolerance with room to spare: the header carries whole seconds
    # and the requests before it take time (the exact boundary is tested in ingest).
    beyond = timedelta(seconds=330)

    attempts = {
        "bad signature": {"secret": _random_secret()},
        "stale timestamp": {"at": now - beyond},
        "future timestamp": {"at": now + beyond},
        "other tenant's secret": {"secret": other.secret},
    }
    refused_ids = []
    bodies = []
    for case, kwargs in attempts.items():
        webhook_id = f"msg_{case.replace(' ', '-').replace(chr(39), '')}-{tenant.slug}"
        answer = await tenant.send(body, webhook_id=webhook_id, expect=None, **kwargs)
        assert answer.status_code == 401, (case, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), case
        refused_ids.append(webhook_id)
        bodies.append({k: v for k, v in answer.json().items() if k != "instance"})
    # A body altered after signing, and an unknown tenant, are refused the same way.
    tampered = await tenant.send(
        body | {"title": "CEO"},
        webhook_id="msg_tampered",
        signed_body=orjson.dumps(body),
        expect=401,
    )
    refused_ids.append("msg_tampered")
    unknown = await tenant.send(body, slug=f"{tenant.slug}-nope", expect=401)
    for answer in (tampered, unknown):
        bodies.append({k: v for k, v in answer.json().items() if k != "instance"})
    # Every refusal looks the same, so a caller cannot probe which tenants exist.
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["status"] == 401

    webhook_id = f"msg_once-{tenant.slug}"
    first = (await tenant.send(body, webhook_id=webhook_id, expect=202)).json()
    # The sender retries the same webhook-id with a fresh timestamp and signature.
    again = (await tenant.send(body, webhook_id=webhook_id, expect=200)).json()
    lead_id = tenant.lead_id(webhook_id)
    assert first["status"] == "accepted"
    assert again["status"] == "duplicate"
    assert again["lead_id"] == first["lead_id"] == str(lead_id)

    await bus.wait("sales.lead.created", lead_id=lead_id)
    await bus.settle()
    assert len(bus.select("lead.received", lead_id=lead_id)) == 1
    assert len(bus.select("sales.lead.created", lead_id=lead_id)) == 1
    for refused in refused_ids:
        assert not bus.select("lead.received", lead_id=tenant.lead_id(refused)), refused
    accepted = {
        m.value["payload"]["webhook_id"] for m in bus.select("lead.received", tenant=tenant.slug)
    }
    assert accepted == {webhook_id}

    story = await timeline(tenant.slug, lead_id, "lead.received", "lead.created")
    types = [e["event_type"] for e in story["events"]]
    assert types.count("lead.received") == 1
    assert types.count("lead.created") == 1
