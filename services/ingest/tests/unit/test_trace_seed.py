"""Every attempt of a webhook continues one trace: the lead's (its id is the trace id)."""

from __future__ import annotations

from leadflow_contracts import lead_id_for
from leadflow_ingest.api.trace_seed import webhook_trace_seed


def _scope(path: str, webhook_id: bytes | None, method: str = "POST") -> dict[str, object]:
    headers = [(b"content-type", b"application/json")]
    if webhook_id is not None:
        headers.append((b"webhook-id", webhook_id))
    return {"type": "http", "method": method, "path": path, "headers": headers}


def test_every_attempt_of_a_webhook_continues_the_trace_named_by_its_lead() -> None:
    first = webhook_trace_seed(_scope("/v1/webhooks/acme/generic", b"msg_1"))
    retry = webhook_trace_seed(_scope("/v1/webhooks/acme/generic", b"msg_1"))
    assert first is not None
    assert first == retry
    version, trace_id, parent, flags = first.split("-")
    assert (version, flags) == ("00", "01")
    assert trace_id == lead_id_for("acme", "generic", "msg_1").hex
    assert len(parent) == 16
    assert int(parent, 16) != 0
    other = webhook_trace_seed(_scope("/v1/webhooks/acme/generic", b"msg_2"))
    assert other is not None
    assert other.split("-")[1] != trace_id


def test_requests_that_are_not_a_webhook_get_no_seed() -> None:
    assert webhook_trace_seed(_scope("/v1/webhooks/acme/generic", None)) is None
    assert webhook_trace_seed(_scope("/v1/webhooks/acme", b"m")) is None
    assert webhook_trace_seed(_scope("/v1/webhooks/acme/generic/x", b"m")) is None
    assert webhook_trace_seed(_scope("/v1/webhooks/acme/generic", b"m", "GET")) is None
    assert webhook_trace_seed(_scope("/v1/tenants", b"m")) is None
    assert webhook_trace_seed(_scope("/v1/webhooks/acme/generic", b"\xff")) is None
