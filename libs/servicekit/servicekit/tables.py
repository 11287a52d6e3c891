"""Column factories for the columns every service's tables declare the same way.

Each call returns a fresh ``Column`` (a column belongs to one table). The types and
defaults are those the services' migrations create; changing one here changes the
metadata of every service, never a database: migrations are written out on their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Column, DateTime, String, Table, func, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

#: The length of a slug: a tenant's (``tenants.slug`` in ingest) or an id a tenant chooses.
SLUG_LENGTH = 63


def slug(name: str, *, primary_key: bool = False, nullable: bool = False) -> Column[Any]:
    """A slug column: part of the key, NOT NULL, or (``nullable``) NULL."""
    return Column(name, String(SLUG_LENGTH), primary_key=primary_key, nullable=nullable)


def tenant(*, primary_key: bool = False) -> Column[Any]:
    """The ``tenant`` column: a tenant's slug, part of the key or NOT NULL."""
    return slug("tenant", primary_key=primary_key)


def timestamp(name: str, *, nullable: bool = False, now: bool = False) -> Column[Any]:
    """A ``timestamptz`` column; ``now`` gives it ``DEFAULT now()``."""
    default = func.now() if now else None
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=default)


def created_at() -> Column[Any]:
    """``created_at timestamptz NOT NULL DEFAULT now()``."""
    return timestamp("created_at", now=True)


def updated_at() -> Column[Any]:
    """``updated_at timestamptz NOT NULL DEFAULT now()``."""
    return timestamp("updated_at", now=True)


def timestamps() -> tuple[Column[Any], Column[Any]]:
    """``created_at`` and ``updated_at``, both ``NOT NULL DEFAULT now()``."""
    return created_at(), updated_at()


@cache
def _recordset_insert(
    table: Table, columns: tuple[str, ...], returning: bool
) -> TextClause | TextualSelect:
    sql = f"{_insert_recordset(table, columns)} ON CONFLICT DO NOTHING"
    if not returning:
        return text(sql)
    return text(sql + " RETURNING *").columns(*table.c)


def _insert_recordset(table: Table, columns: Sequence[str]) -> str:
    """``INSERT INTO <table> (<columns>) SELECT <columns> FROM json_to_recordset(…)``."""
    quote = postgresql.dialect().identifier_preparer.quote  # type: ignore[no-untyped-call]
    names = ", ".join(quote(name) for name in columns)
    return (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT {names}"  # noqa: S608
        f" FROM {_recordset(table, columns)}"
    )


def _recordset(table: Table, columns: Sequence[str]) -> str:
    """``json_to_recordset(:rows) AS r(<column> <type>, …)`` for ``columns`` of ``table``
    (identifiers and type names from the table's own metadata, never from input)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    quote = dialect.identifier_preparer.quote
    record = ", ".join(
        f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in columns
    )
    return f"json_to_recordset(CAST(:rows AS json)) AS r({record})"


def _rows_document(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {"rows": orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()}


@cache
def _recordset_update(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> TextClause:
    quote = postgresql.dialect().identifier_preparer.quote  # type: ignore[no-untyped-call]
    target = quote(table.name)
    sets = ", ".join(f"{quote(c)} = r.{quote(c)}" for c in columns if c not in keys)
    match = " AND ".join(f"{target}.{quote(k)} = r.{quote(k)}" for k in keys)
    sql = f"UPDATE {target} SET {sets} FROM {_recordset(table, columns)} WHERE {match}"  # noqa: S608
    return text(sql)


async def update_rows(
    session: AsyncSession, table: Table, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Set the other columns of ``rows`` (all with the same keys) on the rows of ``table``
    that match each one's ``keys`` columns: one statement of one parameter, as
    ``insert_rows``. Rows are updated in no particular order: for rows this transaction
    already holds (or that no other transaction updates)."""
    if rows:
        statement = _recordset_update(table, keys, tuple(rows[0]))
        await session.execute(statement, _rows_document(rows))


@cache
def _recordset_upsert(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> TextClause:
    quote = postgresql.dialect().identifier_preparer.quote  # type: ignore[no-untyped-call]
    target = ", ".join(quote(k) for k in keys)
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in keys)
    insert = _insert_recordset(table, columns)
    return text(f"{insert} ON CONFLICT ({target}) DO UPDATE SET {sets}")


async def upsert_rows(
    session: AsyncSession, table: Table, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (all with the same keys), or set their other columns where a row
    with the same ``keys`` (a unique constraint) exists: one statement of one parameter,
    as ``insert_rows``, the rows written in their order (sort them where concurrent
    writers must lock in one order). No two rows may share their ``keys``: PostgreSQL
    refuses to change one row twice in a statement."""
    if rows:
        statement = _recordset_upsert(table, keys, tuple(rows[0]))
        await session.execute(statement, _rows_document(rows))


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: bool = False,
) -> Sequence[RowMapping]:
    """``INSERT … ON CONFLICT DO NOTHING`` of ``rows`` (all with the same keys), in their
    order, as one statement of one parameter: the rows as a JSON array, serialized by
    orjson and turned into typed rows by PostgreSQL (``json_to_recordset``). The same
    text whatever the number of rows, so psycopg caches its conversion and prepares it,
    and PostgreSQL plans it once per connection; and no per-value work in Python. A
    multi-row ``VALUES`` (SQLAlchemy's executemany) is a new statement of thousands of
    parameters for every batch size; one array per column (``unnest``) has psycopg dump
    every element in Python (``bench/README.md`` has the figures). Values: what orjson
    writes (UUIDs, aware datetimes, enums, lists and dicts as JSON), each read by its
    column's type; None is NULL. ``returning``: the inserted rows (conflicting ones are
    missing), in no order.
    """
    if not rows:
        return []
    statement = _recordset_insert(table, tuple(rows[0]), returning)
    result = await session.execute(statement, _rows_document(rows))
    return result.mappings().all() if returning else []
