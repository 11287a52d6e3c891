"""Standard Webhooks signatures made by the official package."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(
    secret: str | list[str],
    raw: bytes,
    *,
    webhook_id: str,
    at: datetime | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers made by the official package (several secrets → several
    space-separated signatures, as a sender does during rotation)."""
    when = at or datetime.now(UTC)
    secrets = [secret] if isinstance(secret, str) else secret
    signatures = [Webhook(s).sign(webhook_id, when, raw.decode()) for s in secrets]
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"
