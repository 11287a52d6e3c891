"""Standard Webhooks verification, interoperating with the official package."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from leadflow_ingest.domain.signatures import (
    SignatureInvalid,
    SigningKey,
    WebhookHeaders,
    new_secret,
    sign,
    verify,
)
from standardwebhooks import Webhook

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BODY = b'{"email": "a@b.example",  "x": "\xc3\xa4"}'


def _key(secret: str, expires_at: datetime | None = None) -> SigningKey:
    return SigningKey(uuid.uuid4(), base64.b64decode(secret.removeprefix("whsec_")), expires_at)


def _headers(secret: str, at: datetime = NOW, msg_id: str = "msg_1") -> WebhookHeaders:
    signature = Webhook(secret).sign(msg_id, at, BODY.decode())
    return WebhookHeaders(msg_id, str(int(at.timestamp())), signature)


def test_official_signature_verifies_and_ours_verifies_officially() -> None:
    secret, raw = new_secret()
    key = _key(secret)
    assert verify(_headers(secret), BODY, [key], now=NOW, tolerance_s=300) is key
    ours = sign(raw, "msg_2", int(NOW.timestamp()), BODY)
    assert Webhook(secret).sign("msg_2", NOW, BODY.decode()) == ours


def test_several_signatures_and_several_keys() -> None:
    old, _ = new_secret()
    new, _ = new_secret()
    header = _headers(new)
    multi = WebhookHeaders(
        header.webhook_id, header.timestamp, f"v2,xyz v1,AAAA {header.signature}"
    )
    keys = [_key(old, NOW + timedelta(hours=1)), _key(new)]
    assert verify(multi, BODY, keys, now=NOW, tolerance_s=300) is keys[1]


@pytest.mark.parametrize(
    ("case", "at", "now", "mutate"),
    [
        ("stale", NOW - timedelta(seconds=301), NOW, None),
        ("future", NOW + timedelta(seconds=301), NOW, None),
        ("tampered", NOW, NOW, b"!"),
        ("expired key", NOW, NOW + timedelta(hours=2), None),
    ],
)
def test_rejections(case: str, at: datetime, now: datetime, mutate: bytes | None) -> None:
    secret, _ = new_secret()
    keys = [_key(secret, NOW + timedelta(hours=1) if case == "expired key" else None)]
    # keep the timestamp inside the tolerance for the expired-key case
    headers = _headers(secret, at if case != "expired key" else now)
    with pytest.raises(SignatureInvalid):
        verify(headers, BODY + (mutate or b""), keys, now=now, tolerance_s=300)


@pytest.mark.parametrize(
    "headers",
    [
        WebhookHeaders(None, "1", "v1,AAAA"),
        WebhookHeaders("m", None, "v1,AAAA"),
        WebhookHeaders("m", "1", None),
        WebhookHeaders("m", "abc", "v1,AAAA"),
        WebhookHeaders("x" * 300, str(int(NOW.timestamp())), "v1,AAAA"),
        WebhookHeaders("m", str(int(NOW.timestamp())), "v1,not base64!"),
    ],
)
def test_malformed_headers(headers: WebhookHeaders) -> None:
    secret, _ = new_secret()
    with pytest.raises(SignatureInvalid):
        verify(headers, BODY, [_key(secret)], now=NOW, tolerance_s=300)
