"""Async SQLAlchemy (psycopg 3) wiring: engine, sessions, database creation."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and select the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL as libpq/psycopg understands it (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(
    url: str, pool_size: int = 5, *, max_overflow: int | None = None, pre_ping: bool = True
) -> AsyncEngine:
    """``pre_ping`` tests every connection on checkout (one extra round trip and
    ~0.15 ms of client CPU each time); without it a connection the server dropped
    fails its first use, and that failure invalidates the whole pool at once.

    ``hide_parameters``: a database error's message (which reaches logs) names the SQL
    but never its bound values, which are user data (emails, names, webhook bodies)."""
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=pre_ping,
        hide_parameters=True,
    )


def uuid_array(name: str, values: Collection[uuid.UUID]) -> BindParameter[Any]:
    """One ``uuid[]`` parameter (``column == any_(uuid_array(...))``): the statement's text
    is the same for any number of ids, so psycopg prepares it once per connection, where an
    ``IN`` list makes one text (and one parse) per list length."""
    return bindparam(name, list(values), type_=ARRAY(UUID(as_uuid=True)))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if missing (connects to ``postgres``).

    Returns True when it was created. Safe to call concurrently: a lost race is ignored.
    """
    name = make_url(url).database
    if not name:
        raise ValueError(f"database URL names no database: {make_url(url)!r}")
    admin = libpq_url(with_database(url, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False
    return True


def drop_database(url: str) -> None:
    name = make_url(url).database
    admin = libpq_url(with_database(url, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name or ""))
        )
