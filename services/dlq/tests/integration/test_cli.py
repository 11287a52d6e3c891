"""``leadflow dlq …`` against the real service over HTTP (uvicorn on a free port).

The records are stored before the service starts, so the pending gauge it reports
proves the depth is read from the database (right after a restart).
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from leadflow_contracts import REGISTRY
from leadflow_contracts import headers as h
from leadflow_contracts.topics import LEAD_RECEIVED
from leadflow_dlq.__main__ import MIGRATIONS
from leadflow_dlq.adapters import store
from leadflow_dlq.app import create_app
from leadflow_dlq.cli import register_cli
from leadflow_dlq.domain.capture import NewDeadLetter, capture
from leadflow_dlq.settings import Settings
from servicekit.auth import mint_token
from servicekit.db import create_engine, session_factory
from servicekit.kafka import ensure_topics
from servicekit.migrations import upgrade


def _record(settings: Settings, offset: int, value: bytes, exception_suffix: str) -> NewDeadLetter:
    topic = settings.topic_prefix + LEAD_RECEIVED.name
    return capture(
        dlq_topic=settings.topic_prefix + LEAD_RECEIVED.dlq,
        partition=0,
        offset=offset,
        key=b"lead-key",
        value=value,
        headers=[
            ("event-type", b"lead.received"),
            (h.DLQ_ORIGINAL_TOPIC, topic.encode()),
            (h.DLQ_ORIGINAL_PARTITION, b"0"),
            (h.DLQ_ORIGINAL_OFFSET, str(offset).encode()),
            (h.DLQ_CONSUMER_GROUP, b"ingest-worker"),
            (h.DLQ_EXCEPTION_CLASS, f"servicekit.errors.InvalidMessage{exception_suffix}".encode()),
            (h.DLQ_EXCEPTION_MESSAGE, b"payload is invalid"),
            (h.DLQ_ATTEMPTS, b"1"),
        ],
        topic_prefix=settings.topic_prefix,
    )


async def _seed(settings: Settings, records: list[NewDeadLetter]) -> None:
    await ensure_topics(
        settings.kafka_bootstrap_servers, REGISTRY, name_prefix=settings.topic_prefix
    )
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            for record in records:
                assert await store.insert_new(session, record)
    finally:
        await engine.dispose()


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in 30 s"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def seeded(settings: Settings, unique: str) -> list[NewDeadLetter]:
    upgrade(settings.database_url, MIGRATIONS)
    envelope = (
        b'{"event_id": "6f1c1f4e-4f6c-4a3e-9a57-2a3d0c1b5e11", "tenant_id": "acme-'
        + unique.encode()
        + b'", "event_type": "lead.received", "payload": {}}'
    )
    records = [_record(settings, 1, envelope, ""), _record(settings, 2, b"\x00\xff", "X")]
    asyncio.run(_seed(settings, records))
    return records


def _leadflow(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="leadflow")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_operator_commands(
    seeded: list[NewDeadLetter],
    served: str,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enveloped, raw = seeded
    token = mint_token(settings.jwt_secret(), sub="carol", role="operator", tenants=["*"])
    auth = ("--url", served, "--token", token)

    metrics = httpx.get(f"{served}/metrics").text
    assert f'dlq_pending_records{{original_topic="{LEAD_RECEIVED.name}"}} 2.0' in metrics

    assert _leadflow("dlq", "list", *auth) == 0
    out = capsys.readouterr().out
    assert str(enveloped.id) in out
    assert str(raw.id) in out
    assert "(2 record(s))" in out

    assert _leadflow("dlq", "show", str(raw.id), *auth) == 0
    out = capsys.readouterr().out
    assert "value (base64, 2 bytes):\nAP8=" in out
    assert "event-type: lead.received" in out
    assert "the value is not UTF-8 text" in out

    with pytest.raises(SystemExit):
        _leadflow("dlq", "discard", str(raw.id), *auth)
    capsys.readouterr()
    assert _leadflow("dlq", "discard", str(raw.id), "--reason", "test data", *auth) == 0
    assert f"discarded {raw.id}: test data" in capsys.readouterr().out
    assert _leadflow("dlq", "replay", str(raw.id), *auth) == 1
    assert "409 Not allowed in this status" in capsys.readouterr().err

    # Environment instead of flags; bulk replay of what is still pending.
    monkeypatch.setenv("LEADFLOW_DLQ_URL", served)
    monkeypatch.setenv("LEADFLOW_TOKEN", token)
    assert _leadflow("dlq", "replay", "--all", "--topic", LEAD_RECEIVED.name) == 0
    out = capsys.readouterr().out
    assert "replayed 1 record(s)" in out
    assert str(enveloped.id) in out
    assert _leadflow("dlq", "list", "--status", "replayed", "--json") == 0
    assert f'"id": "{enveloped.id}"' in capsys.readouterr().out
    metrics = httpx.get(f"{served}/metrics").text
    assert f'dlq_pending_records{{original_topic="{LEAD_RECEIVED.name}"}} 0.0' in metrics

    # What an operator sees when something is wrong.
    assert _leadflow("dlq", "list", "--url", served, "--token", "nonsense") == 1
    assert "401 Unauthorized" in capsys.readouterr().err
    assert _leadflow("dlq", "list", "--url", "http://127.0.0.1:9") == 2
    assert "cannot reach the dlq service" in capsys.readouterr().err
