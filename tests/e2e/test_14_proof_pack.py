"""The proof pack's runner on journey 1: the bundle ``make proof`` writes, secrets masked."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import xml.etree.ElementTree as ET
from pathlib import Path

import orjson

from tests.e2e import proof
from tests.e2e.support.evidence import PROOF_DIR_ENV

JOURNEY_1 = str(Path(proof.__file__).parent / "test_01_accepted_webhook.py")


async def test_proof_runner_writes_the_bundle(tmp_path: Path, monkeypatch) -> None:
    # The inner run starts a stack of its own; its admin JWT secret is one we know.
    jwt_secret = "proof-" + secrets.token_hex(16)
    monkeypatch.setenv("LEADFLOW_ADMIN_JWT_SECRET", jwt_secret)
    monkeypatch.delenv(PROOF_DIR_ENV, raising=False)
    for name in [n for n in os.environ if n.startswith("LEADFLOW_E2E_")]:
        monkeypatch.delenv(name)
    out = tmp_path / "bundle"

    status = await asyncio.to_thread(proof.run, out, [JOURNEY_1])

    assert status == 0
    suite = ET.parse(out / "junit.xml").getroot()  # noqa: S314 - written by our pytest
    cases = list(suite.iter("testcase"))
    assert [c.get("name") for c in cases] == ["test_accepted_webhook_yields_normalized_lead"]
    [item] = [orjson.loads(p.read_bytes()) for p in (out / "evidence").glob("*.json")]
    assert sorted(item["criteria"]) == ["J1.1", "J1.2", "J1.3", "J1.4", "J1.5"]

    # The webhook secret the tenant got and the signatures made with it are masked.
    [source] = [e for e in item["exchanges"] if e["request"]["url"].endswith("/sources")]
    assert source["answer"]["body"]["secret"] == "***"
    webhooks = [e for e in item["exchanges"] if "/v1/webhooks/" in e["request"]["url"]]
    assert webhooks
    assert all(e["request"]["headers"]["webhook-signature"] == "***" for e in webhooks)

    report = (out / "report.md").read_text()
    for text in (jwt_secret, "Bearer ey", "whsec_"):
        assert text not in report
    assert not re.search(r"eyJ[\w-]+\.[\w-]+", report)  # no minted token
    assert not re.search(r"v1,[A-Za-z0-9+/=]{20,}", report)  # no signature
    assert re.search(r"\| J1\.3 \| [^|]+ \| passed \|", report)
    assert re.search(r"\| J2\.1 \| [^|]+ \| not proved \|", report)
    assert "#### Requests and answers (" in report
    assert "→ **202**" in report
    assert "| 1 | lead.received |" in report  # a timeline
    # A span tree: the webhook's server span with the publish indented under it.
    assert re.search(
        r"^ingest: POST /v1/webhooks/\{tenant\}/\{source\}\n  ingest: lead\.received publish$",
        report,
        re.M,
    )
