"""Dead-letter identity against a real PostgreSQL: position *and* content.

The in-memory development broker starts every topic at offset 0 again when it restarts,
while the dlq database keeps its rows; so does a recreated topic on Apache Kafka. A new
failure at a reused offset must be stored, a redelivered record must not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from leadflow_contracts import headers as h
from leadflow_dlq.__main__ import MIGRATIONS
from leadflow_dlq.adapters import store
from leadflow_dlq.domain.capture import Filter, NewDeadLetter, capture
from servicekit.db import create_engine, session_factory, sqlalchemy_url
from servicekit.migrations import upgrade

FAILED_AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _dead_letter(value: bytes, failed_at: datetime, *, dlq_offset: int = 0) -> NewDeadLetter:
    """What servicekit publishes when the record at lead.scored[0]@5 fails for good."""
    return capture(
        dlq_topic="p.lead.scored.dlq",
        partition=0,
        offset=dlq_offset,
        key=b"lead-1",
        value=value,
        headers=[
            ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            (h.DLQ_ORIGINAL_TOPIC, b"p.lead.scored"),
            (h.DLQ_ORIGINAL_PARTITION, b"0"),
            (h.DLQ_ORIGINAL_OFFSET, b"5"),
            (h.DLQ_CONSUMER_GROUP, b"router"),
            (h.DLQ_FIRST_FAILED_AT, failed_at.isoformat().encode()),
            (h.DLQ_LAST_FAILED_AT, failed_at.isoformat().encode()),
        ],
        topic_prefix="p.",
    )


async def test_migration_digests_stored_rows_and_a_reused_offset_is_a_new_record(
    database_url: str,
) -> None:
    before = _dead_letter(b'{"n": 1}', FAILED_AT)
    # A row stored by revision 0002, which knew positions only.
    upgrade(database_url, MIGRATIONS, "0002")
    sync = sa.create_engine(sqlalchemy_url(database_url), poolclass=sa.pool.NullPool)
    legacy = {
        k: v for k, v in before.row().items() if k not in {"record_digest", "original_digest"}
    }
    with sync.begin() as conn:
        table = sa.Table("dead_letters", sa.MetaData(), autoload_with=conn)
        conn.execute(table.insert().values(**legacy, status="pending"))
    upgrade(database_url, MIGRATIONS)
    with sync.connect() as conn:
        digests = conn.execute(
            sa.text("SELECT record_digest, original_digest FROM dead_letters")
        ).one()
    sync.dispose()
    assert tuple(digests) == (before.record_digest, before.original_digest)

    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:

        async def insert(record: NewDeadLetter) -> bool:
            async with sessions.begin() as session:
                return await store.insert_new(session, record)

        # The same DLQ record read again (the dlq consumer crashed before committing).
        assert await insert(before) is False
        # The same original record dead-lettered again at another DLQ offset (the
        # failing consumer crashed between publishing to the DLQ and committing).
        again = _dead_letter(b'{"n": 1}', FAILED_AT + timedelta(minutes=1), dlq_offset=1)
        assert await insert(again) is False
        # The broker restarted: lead.scored[0]@5 and lead.scored.dlq[0]@0 are another
        # record now, which failed too. It is a new dead letter, not a duplicate.
        after_restart = _dead_letter(b'{"n": 2}', FAILED_AT + timedelta(hours=1))
        assert await insert(after_restart) is True
        async with sessions() as session:
            rows: list[Any] = await store.search(session, Filter(), None, limit=10)
        assert sorted(r.value for r in rows) == [b'{"n": 1}', b'{"n": 2}']
    finally:
        await engine.dispose()
