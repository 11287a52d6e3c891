"""Tables of the dlq service: ``dead_letters`` (one row per DLQ record) and its history.

A row is unique by the DLQ record's own position and content (a redelivered DLQ record
is stored once) and by the original record's position and content within the consumer
group that gave up (servicekit publishes to the DLQ before committing the original
offset, so a crash in between dead-letters the same record twice, at two DLQ offsets).
Content is part of both keys because offsets are reused when a topic is recreated — on
every restart of the in-memory development broker — while this database keeps its rows:
a position alone would make a new failure look like an old one and drop it.

Text columns are unbounded on purpose: a value a foreign producer wrote into a header
must never make the insert fail, or the DLQ consumer would stall on that record.
"""

from __future__ import annotations

from typing import Any

from servicekit.tables import timestamp, updated_at
from sqlalchemy import Column, FetchedValue, ForeignKey, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import MetaData, Table, UniqueConstraint
from sqlalchemy.types import BigInteger, Integer, LargeBinary, Text, Uuid

metadata = MetaData()


def _text(name: str) -> Column[Any]:
    """A nullable, unbounded text column (most values come from a record's headers)."""
    return Column(name, Text, nullable=True)


dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True, server_default=FetchedValue()),
    Column("dlq_topic", Text, nullable=False),
    Column("dlq_partition", Integer, nullable=False),
    Column("dlq_offset", BigInteger, nullable=False),
    Column("record_digest", Text, nullable=False),
    Column("original_digest", Text, nullable=False),
    timestamp("received_at", now=True),
    Column("key", LargeBinary, nullable=True),
    Column("value", LargeBinary, nullable=True),
    Column("headers", JSONB, nullable=False),
    _text("topic"),
    _text("original_topic"),
    Column("original_partition", Integer, nullable=True),
    Column("original_offset", BigInteger, nullable=True),
    _text("consumer_group"),
    _text("exception_class"),
    _text("exception_message"),
    _text("stacktrace"),
    Column("attempts", Integer, nullable=True),
    timestamp("first_failed_at", nullable=True),
    timestamp("last_failed_at", nullable=True),
    Column("event_id", Uuid, nullable=True),
    _text("tenant_id"),
    _text("event_type"),
    Column("lead_id", Uuid, nullable=True),
    _text("value_problem"),
    Column("replay_of", Uuid, nullable=True),
    Column("status", Text, nullable=False),
    Column("replay_count", Integer, nullable=False, server_default="0"),
    updated_at(),
    UniqueConstraint(
        "dlq_topic",
        "dlq_partition",
        "dlq_offset",
        "record_digest",
        name="dead_letters_dlq_record",
    ),
    UniqueConstraint(
        "original_topic",
        "original_partition",
        "original_offset",
        "consumer_group",
        "original_digest",
        name="dead_letters_original_record",
    ),
    Index("dead_letters_status_seq", "status", "seq"),
    Index("dead_letters_tenant_seq", "tenant_id", "seq"),
    Index("dead_letters_topic_seq", "topic", "seq"),
    Index("dead_letters_event_id", "event_id"),
)

history = Table(
    "dead_letter_history",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "dead_letter_id",
        Uuid,
        ForeignKey("dead_letters.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    timestamp("at", now=True),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    _text("reason"),
    Column("detail", JSONB, nullable=True),
)
