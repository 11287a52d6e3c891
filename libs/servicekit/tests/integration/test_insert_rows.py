"""``tables.insert_rows``: every column type the services insert arrives as it was sent,
in order, conflicting rows skipped and missing from RETURNING; ``tables.update_rows``
sets exactly the rows its keys name; ``tables.upsert_rows`` inserts the new ones and sets
the given columns of the existing ones."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import pytest
from servicekit.db import create_engine, session_factory
from servicekit.tables import insert_rows, update_rows, upsert_rows
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import Column, Identity, MetaData, Table
from sqlalchemy.sql import select
from sqlalchemy.types import BigInteger, Boolean, DateTime, Integer, String

metadata = MetaData()
things = Table(
    "insert_rows_things",
    metadata,
    Column("thing_id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(16), nullable=False),
    Column("count", Integer, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("doc", JSONB, nullable=True),
    Column("tags", ARRAY(String(8)), nullable=False),
    Column("seq", BigInteger, Identity(), nullable=False),
)


class Colour(StrEnum):
    RED = "red"


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    try:
        async with session_factory(engine)() as s, s.begin():
            yield s
    finally:
        await engine.dispose()


def _row(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "thing_id": uuid.UUID(int=n),
        "name": f"thing {n}",
        "count": n,
        "active": n % 2 == 0,
        "at": datetime(2026, 12, 4, 17, 0, n, 123456, tzinfo=UTC),
        "doc": {"n": n, "nested": {"ü": ["x", None, 1.5]}, "colour": Colour.RED},
        "tags": ["a", "b'\"c"],
    }
    return row | changes


async def test_values_arrive_as_sent_in_order(session: AsyncSession) -> None:
    eastern = timezone(timedelta(hours=-5))
    rows = [
        _row(3),
        _row(1, count=None, doc=None, tags=[], at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=eastern)),
        _row(2, name="naïve \\ ' \" \t", doc={"text": "line\nbreak", "quote": "\"'"}),
    ]
    inserted = await insert_rows(session, things, rows, returning=True)
    assert {r["thing_id"] for r in inserted} == {uuid.UUID(int=n) for n in (1, 2, 3)}
    stored = (await session.execute(select(things).order_by(things.c.seq))).mappings().all()
    assert [r["thing_id"] for r in stored] == [uuid.UUID(int=n) for n in (3, 1, 2)]
    for sent, got in zip(rows, stored, strict=True):
        expected = sent | {"doc": None if sent["doc"] is None else _as_json(sent["doc"])}
        assert {k: got[k] for k in sent} == expected
    assert stored[1]["at"] == datetime(2026, 1, 2, 8, 4, 5, tzinfo=UTC)


async def test_conflicting_rows_are_skipped_and_not_returned(session: AsyncSession) -> None:
    await insert_rows(session, things, [_row(1)])
    inserted = await insert_rows(
        session, things, [_row(2), _row(1, name="changed"), _row(3)], returning=True
    )
    assert sorted(r["thing_id"].int for r in inserted) == [2, 3]
    names = (await session.execute(select(things.c.name).order_by(things.c.seq))).scalars()
    assert list(names) == ["thing 1", "thing 2", "thing 3"]
    assert await insert_rows(session, things, []) == []


async def test_update_rows_sets_the_rows_the_keys_name(session: AsyncSession) -> None:
    await insert_rows(session, things, [_row(n) for n in (1, 2, 3)])
    await update_rows(
        session,
        things,
        ("thing_id", "name"),
        [
            {"thing_id": uuid.UUID(int=3), "name": "thing 3", "doc": {"v": [3]}, "count": None},
            {"thing_id": uuid.UUID(int=1), "name": "thing 1", "doc": None, "count": 10},
            {"thing_id": uuid.UUID(int=2), "name": "not thing 2", "doc": {}, "count": 20},
        ],
    )
    await update_rows(session, things, ("thing_id",), [])
    query = select(things.c.count, things.c.doc).order_by(things.c.seq)
    stored = [tuple(r) for r in (await session.execute(query)).all()]
    assert stored == [(10, None), (2, _as_json(_row(2)["doc"])), (None, {"v": [3]})]


async def test_upsert_rows_inserts_new_rows_and_sets_existing_ones(session: AsyncSession) -> None:
    await insert_rows(session, things, [_row(1), _row(2)])
    await upsert_rows(
        session,
        things,
        ("thing_id",),
        [
            _row(3, name="new 3"),
            _row(1, name="changed 1", count=None, doc=None, tags=["z"]),
        ],
    )
    await upsert_rows(session, things, ("thing_id",), [])
    query = select(things.c.thing_id, things.c.name, things.c.count, things.c.tags)
    stored = {r[0].int: tuple(r[1:]) for r in (await session.execute(query)).all()}
    assert stored == {
        1: ("changed 1", None, ["z"]),
        2: ("thing 2", 2, ["a", "b'\"c"]),
        3: ("new 3", 3, ["a", "b'\"c"]),
    }
    seqs = (await session.execute(select(things.c.seq).order_by(things.c.thing_id))).scalars()
    assert list(seqs)[2] > 2  # the new row was inserted, after the first two


def _as_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "colour": str(doc["colour"])} if "colour" in doc else doc
