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
def _unnest_insert(
    table: Table, columns: tuple[str, ...], returning: bool
) -> TextClause | TextualSelect:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    quote = dialect.identifier_preparer.quote
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns
    )
    # Identifiers and type names from the table's own metadata, never from input.
    names = ", ".join(quote(name) for name in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
    sql += " ON CONFLICT DO NOTHING"
    if not returning:
        return text(sql)
    return text(sql + " RETURNING *").columns(*table.c)


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: bool = False,
) -> Sequence[RowMapping]:
    """``INSERT … ON CONFLICT DO NOTHING`` of ``rows`` (all with the same keys) as one
    statement of one array per column (``unnest``): the same text whatever the number of
    rows, so psycopg caches its conversion and prepares it, and PostgreSQL plans it once
    per connection. A multi-row ``VALUES`` (SQLAlchemy's executemany) is a new statement
    of thousands of parameters for every batch size: parsed by psycopg and planned by
    PostgreSQL each time (``bench/README.md`` has the figures). JSONB values go as JSON
    text. ``returning``: the inserted rows (conflicting ones are missing), in no order.
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    params: dict[str, list[Any]] = {}
    for name in columns:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, postgresql.JSONB):
            values = [
                None if v is None else orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS).decode()
                for v in values
            ]
        params[name] = values
    result = await session.execute(_unnest_insert(table, columns, returning), params)
    return result.mappings().all() if returning else []
