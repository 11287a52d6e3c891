"""Column factories for the columns every service's tables declare the same way.

Each call returns a fresh ``Column`` (a column belongs to one table). The types and
defaults are those the services' migrations create; changing one here changes the
metadata of every service, never a database: migrations are written out on their own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, String, func

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
