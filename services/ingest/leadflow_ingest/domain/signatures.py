"""Standard Webhooks signatures (https://www.standardwebhooks.com/), verified by hand.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{raw body}"`` — the raw bytes
as received, never re-serialized JSON. ``webhook-signature`` holds one or more
space-separated ``v1,<base64 HMAC-SHA256>`` entries; a request is authentic when any
entry matches any active key of the tenant/source (several keys are active during a
rotation's grace period). Comparisons are constant time (``hmac.compare_digest``).

We do not use ``standardwebhooks.Webhook.verify`` here because its tolerance is fixed
at five minutes, it decodes the body as text and checks one secret at a time; the
tests sign with that official package to prove interoperability.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
MAX_WEBHOOK_ID_LENGTH = 255


class SignatureInvalid(Exception):
    """Authentication failed. The reason is for logs only: callers get one uniform 401."""


@dataclass(frozen=True)
class SigningKey:
    secret_id: uuid.UUID
    key: bytes
    #: End of the grace period after a rotation; None while it is the current key.
    expires_at: datetime | None = None

    def active_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class WebhookHeaders:
    webhook_id: str | None
    timestamp: str | None
    signature: str | None


def new_secret() -> tuple[str, bytes]:
    """A fresh secret as shown to the user (``whsec_<base64>``) and its raw key bytes."""
    key = secrets.token_bytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(key).decode(), key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (used by tests and by anyone sending to us)."""
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def _timestamp(raw: str, now: datetime, tolerance_s: int) -> int:
    try:
        ts = int(raw)
    except ValueError:
        raise SignatureInvalid("webhook-timestamp is not an integer") from None
    skew = now.timestamp() - ts
    if skew > tolerance_s:
        raise SignatureInvalid("webhook-timestamp too old")
    if skew < -tolerance_s:
        raise SignatureInvalid("webhook-timestamp too far in the future")
    return ts


def _candidates(header: str) -> list[bytes]:
    found: list[bytes] = []
    for entry in header.split():
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        try:
            found.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    headers: WebhookHeaders,
    body: bytes,
    keys: Sequence[SigningKey],
    *,
    now: datetime,
    tolerance_s: int,
) -> SigningKey:
    """The key that signed this request; raises ``SignatureInvalid`` otherwise."""
    webhook_id, raw_ts, header = headers.webhook_id, headers.timestamp, headers.signature
    if not webhook_id or not raw_ts or not header:
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    if len(webhook_id) > MAX_WEBHOOK_ID_LENGTH:
        raise SignatureInvalid("webhook-id too long")
    _timestamp(raw_ts, now, tolerance_s)
    candidates = _candidates(header)
    if not candidates:
        raise SignatureInvalid("no v1 signature in webhook-signature")
    content = f"{webhook_id}.{raw_ts}.".encode() + body
    matched: SigningKey | None = None
    # Check every (key, signature) pair so timing does not reveal which key matched.
    for key in keys:
        if not key.active_at(now):
            continue
        expected = hmac.new(key.key, content, hashlib.sha256).digest()
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate) and matched is None:
                matched = key
    if matched is None:
        raise SignatureInvalid("no signature matches an active secret")
    return matched
