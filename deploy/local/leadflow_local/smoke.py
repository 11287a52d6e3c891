"""``make smoke``: the whole stack on embedded defaults, one signed lead, its assignment.

``python -m leadflow_local.smoke`` starts the embedded broker, PostgreSQL and every
service (on a free port offset, so it never collides with a running ``make run``),
provisions a tenant with a tier, a ``generic`` source, a scoring rule set, a team and a
rep, sends one webhook signed the Standard Webhooks way, waits until the audit trail
shows ``lead.assigned``, prints the lead's timeline and stops everything.

Exit code 0 only when the lead was assigned; otherwise 1, with the tail of each
service's log.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from servicekit.auth import mint_token

from leadflow_local.stack import Stack, free_port_offset


class SmokeFailed(Exception):
    pass


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` per Standard Webhooks: ``v1,<base64 HMAC-SHA256>`` of
    ``{id}.{timestamp}.{body}`` keyed with the base64 part of ``whsec_…``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


class Client:
    """Admin calls with an admin token; every non-2xx answer aborts the smoke test."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        token = mint_token(stack.jwt_secret, sub="smoke", role="admin", tenants=["*"])
        self.http = httpx.Client(timeout=30.0, headers={"authorization": f"Bearer {token}"})

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.stack.url(service) + path, **kwargs)
        if response.status_code >= 300:
            raise SmokeFailed(
                f"{service} {method} {path} -> {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None


def provision(client: Client, slug: str) -> str:
    """Tier, tenant, source (returns its secret), rule set, team, rep, routing rule."""
    tier = {"name": slug, "rate_per_minute": 600, "monthly_quota": 100_000, "sla_minutes": 30}
    client.call("ingest", "POST", "/v1/tiers", json=tier | {"features": {}})
    tenant = {"slug": slug, "name": "Smoke test", "tier": slug, "default_region": "DE"}
    client.call("ingest", "POST", "/v1/tenants", json=tenant)
    source = client.call(
        "ingest", "POST", f"/v1/tenants/{slug}/sources", json={"source": "generic"}
    )
    rule = {
        "id": "senior-title",
        "description": "Senior buyer by title",
        "category": "fit",
        "points": 100,
        "condition": {"kind": "regex", "field": "title", "pattern": r"\b(vp|head of)\b"},
    }
    rule_set = {"rules": [rule], "weights": {"fit": 1, "engagement": 0}, "threshold": 50}
    client.call("scoring", "PUT", f"/v1/tenants/{slug}/scoring", json=rule_set)
    team = {"team_id": "inbound", "name": "Inbound", "strategy": "least_loaded"}
    client.call("router", "POST", f"/v1/tenants/{slug}/teams", json=team)
    rep = {"rep_id": f"{slug}-rep", "name": "Smoke Rep", "team_ids": ["inbound"]}
    client.call("router", "POST", f"/v1/tenants/{slug}/reps", json=rep)
    rules = {"rules": [], "default_team": "inbound"}
    client.call("router", "PUT", f"/v1/tenants/{slug}/routing-rules", json=rules)
    secret: str = source["secret"]
    return secret


def send_lead(client: Client, slug: str, secret: str) -> str:
    body = json.dumps(
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": f"ada@{slug}.example.com",
            "company": "Analytical Engines Ltd",
            "title": "VP of Engineering",
            "country": "GB",
        }
    ).encode()
    webhook_id = f"msg_smoke_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }
    url = f"{client.stack.url('ingest')}/v1/webhooks/{slug}/generic"
    response = httpx.post(url, content=body, headers=headers, timeout=30.0)
    if response.status_code != 202:
        raise SmokeFailed(f"webhook answered {response.status_code}: {response.text[:500]}")
    lead_id: str = response.json()["lead_id"]
    return lead_id


#: What the timeline of a qualified, assigned lead holds. Audit reads all topics in one
#: consumer, so events of different topics may be appended in either order: wait for all.
JOURNEY = ("lead.received", "lead.created", "lead.scored", "lead.qualified", "lead.assigned")


def wait_for_assignment(client: Client, lead_id: str, timeout_s: float) -> dict[str, Any]:
    """The lead's audit timeline once it records the whole journey to ``lead.assigned``."""
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        response = client.http.get(f"{client.stack.url('audit')}/v1/leads/{lead_id}/timeline")
        if response.status_code == 200:
            timeline: dict[str, Any] = response.json()
            seen = [e["event_type"] for e in timeline["events"]]
            if all(t in seen for t in JOURNEY):
                return timeline
        time.sleep(0.25)
    raise SmokeFailed(f"lead {lead_id} not assigned within {timeout_s:.0f}s; events: {seen}")


def print_timeline(timeline: dict[str, Any]) -> None:
    print(f"\nTimeline of lead {timeline['lead_id']} (correlation {timeline['correlation_id']}):")
    for event in timeline["events"]:
        print(f"  {event['occurred_at']}  {event['event_type']:<20} {event['summary']}")


def print_log_tails(stack: Stack, lines: int = 15) -> None:
    for name in stack.services:
        path = stack.data_dir / "logs" / f"{name}.log"
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            print(f"\n--- {name}.log (last {len(tail)} lines)", file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)


def run(data_dir: Path, timeout_s: float) -> int:
    # Embedded defaults: an external broker or database in the environment is ignored.
    env = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    stack = Stack(data_dir=data_dir, port_offset=free_port_offset(), env=env)
    print(f"smoke: starting {', '.join(stack.services)} (data in {data_dir}) …", flush=True)
    started = time.monotonic()
    try:
        stack.start()
        client = Client(stack)
        slug = f"smoke-{uuid.uuid4().hex[:8]}"
        secret = provision(client, slug)
        lead_id = send_lead(client, slug, secret)
        print(f"smoke: lead {lead_id} accepted; waiting for its assignment …", flush=True)
        print_timeline(wait_for_assignment(client, lead_id, timeout_s))
    except (SmokeFailed, RuntimeError, TimeoutError, httpx.HTTPError) as exc:
        print(f"\nsmoke: FAILED: {exc}", file=sys.stderr)
        print_log_tails(stack)
        return 1
    finally:
        stack.stop()
    print(f"\nsmoke: OK in {time.monotonic() - started:.1f}s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadflow_local.smoke", description=__doc__)
    parser.add_argument("--data-dir", help="keep embedded data and logs here (default: temp)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    args = parser.parse_args(argv)
    if args.data_dir:
        return run(Path(args.data_dir).resolve(), args.timeout)
    data_dir = Path(tempfile.mkdtemp(prefix="leadflow-smoke-"))
    try:
        return run(data_dir, args.timeout)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
