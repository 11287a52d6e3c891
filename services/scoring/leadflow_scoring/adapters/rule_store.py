"""Rule-set versions in PostgreSQL: read, load (validate), append.

Version 1 of every tenant is the shipped default. Reads of a tenant with no stored
version return that default as version 1 without writing; the first lead scored (or the
first PUT) stores it, so every version an event names stays readable even if a later
release ships a different default.

A stored version is validated every time it is loaded. One that no longer validates (a
condition kind this release does not know, a hand-edited row) raises
``RuleSetUnavailable``: the consumer retries and then dead-letters the lead, and a
manager repairs it by PUTting a new version; replaying the dead letter then succeeds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_scoring.adapters.tables import rule_set_versions as t
from leadflow_scoring.domain.defaults import default_rule_set
from leadflow_scoring.domain.rules import RuleSet, RuleSetSpec
from leadflow_scoring.domain.validation import describe, summary

DEFAULT_AUTHOR = "system:default"


class RuleSetUnavailable(Exception):
    """A stored rule-set version does not validate; scoring with it is impossible."""

    def __init__(self, tenant: str, version: int, issues: list[dict[str, str]]) -> None:
        self.tenant, self.version, self.issues = tenant, version, issues
        super().__init__(
            f"rule set version {version} of tenant {tenant!r} is invalid: {summary(issues)}; "
            "PUT a corrected rule set, then replay"
        )


@dataclass(frozen=True)
class StoredVersion:
    """A version as stored (raw JSON), whether or not it still validates."""

    tenant: str
    version: int
    rules: Any
    weights: Any
    threshold: int
    created_at: datetime | None
    created_by: str

    def document(self) -> dict[str, Any]:
        return {"rules": self.rules, "weights": self.weights, "threshold": self.threshold}

    def load(self) -> RuleSet:
        try:
            return RuleSet.model_validate(self.document() | {"version": self.version})
        except ValidationError as exc:
            raise RuleSetUnavailable(self.tenant, self.version, describe(exc, self.rules)) from exc


def implicit_default(tenant: str) -> StoredVersion:
    spec = default_rule_set().model_dump(mode="json")
    return StoredVersion(
        tenant, 1, spec["rules"], spec["weights"], spec["threshold"], None, DEFAULT_AUTHOR
    )


def _stored(row: Any) -> StoredVersion:
    return StoredVersion(
        row.tenant,
        row.version,
        row.rules,
        row.weights,
        row.threshold,
        row.created_at,
        row.created_by,
    )


async def lock_tenant(session: AsyncSession, tenant: str) -> None:
    """Serialize writers of one tenant's versions until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('scoring-rules:' || :tenant))"),
        {"tenant": tenant},
    )


async def latest(session: AsyncSession, tenant: str) -> StoredVersion | None:
    row = (
        await session.execute(
            select(t).where(t.c.tenant == tenant).order_by(t.c.version.desc()).limit(1)
        )
    ).first()
    return None if row is None else _stored(row)


async def current(session: AsyncSession, tenant: str) -> StoredVersion:
    """The current version; the implicit default (not stored) if there is none yet."""
    return await latest(session, tenant) or implicit_default(tenant)


async def version(session: AsyncSession, tenant: str, number: int) -> StoredVersion | None:
    row = (
        await session.execute(select(t).where(t.c.tenant == tenant, t.c.version == number))
    ).first()
    if row is None:
        return implicit_default(tenant) if number == 1 else None
    return _stored(row)


async def versions(session: AsyncSession, tenant: str) -> list[StoredVersion]:
    """Every version, newest first (the implicit default if none is stored)."""
    rows = (
        await session.execute(select(t).where(t.c.tenant == tenant).order_by(t.c.version.desc()))
    ).all()
    return [_stored(r) for r in rows] or [implicit_default(tenant)]


async def materialize_default(session: AsyncSession, tenant: str) -> StoredVersion:
    """Store the default as version 1 unless the tenant has a version (concurrency-safe)."""
    default = implicit_default(tenant)
    await session.execute(
        insert(t)
        .values(tenant=tenant, version=1, created_by=DEFAULT_AUTHOR, **default.document())
        .on_conflict_do_nothing()
    )
    stored = await latest(session, tenant)
    assert stored is not None
    return stored


async def latest_of(session: AsyncSession, tenants: Collection[str]) -> dict[str, StoredVersion]:
    """The highest stored version of each of ``tenants`` that has one, in one query."""
    if not tenants:
        return {}
    newest = (
        select(t.c.tenant, func.max(t.c.version).label("version"))
        .where(t.c.tenant.in_(sorted(tenants)))
        .group_by(t.c.tenant)
        .subquery()
    )
    rows = await session.execute(
        select(t).join(newest, and_(t.c.tenant == newest.c.tenant, t.c.version == newest.c.version))
    )
    return {row.tenant: _stored(row) for row in rows}


async def current_of(session: AsyncSession, tenants: Collection[str]) -> dict[str, StoredVersion]:
    """``latest`` for several tenants at once, storing the default (version 1) of those
    that have none yet, as ``materialize_default`` does for one (concurrency-safe)."""
    found = await latest_of(session, tenants)
    missing = sorted(set(tenants) - found.keys())
    if missing:
        await session.execute(
            insert(t)
            .values(
                [
                    {"tenant": tenant, "version": 1, "created_by": DEFAULT_AUTHOR}
                    | implicit_default(tenant).document()
                    for tenant in missing
                ]
            )
            .on_conflict_do_nothing()
        )
        found |= await latest_of(session, missing)
    return found


async def append(
    session: AsyncSession, tenant: str, spec: RuleSetSpec, created_by: str
) -> StoredVersion:
    """Store ``spec`` as the next version (call ``lock_tenant`` first)."""
    base = await materialize_default(session, tenant)
    next_version = (
        await session.scalar(select(func.max(t.c.version)).where(t.c.tenant == tenant))
        or base.version
    ) + 1
    document = spec.model_dump(mode="json")
    row = (
        await session.execute(
            insert(t)
            .values(tenant=tenant, version=next_version, created_by=created_by, **document)
            .returning(*t.c)
        )
    ).one()
    return _stored(row)
