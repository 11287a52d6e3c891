"""Tiers, tenants, sources and secrets: the admin API's SQL (one function per statement)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters.tables import (
    sources,
    tenants,
    tiers,
    usage_counters,
    webhook_secrets,
)


def _dict(row: Any) -> dict[str, Any] | None:
    return None if row is None else dict(row._mapping)


async def get_tier(
    session: AsyncSession, name: str, *, lock: bool = False
) -> dict[str, Any] | None:
    query = select(tiers).where(tiers.c.name == name)
    return _dict((await session.execute(query.with_for_update() if lock else query)).first())


async def list_tiers(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(select(tiers).order_by(tiers.c.name))
    return [dict(r._mapping) for r in rows]


async def insert_tier(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any] | None:
    """The new row, or None if the name is taken."""
    row = (
        await session.execute(
            insert(tiers).values(**values).on_conflict_do_nothing().returning(*tiers.c)
        )
    ).first()
    return _dict(row)


async def update_tier(session: AsyncSession, name: str, values: dict[str, Any]) -> dict[str, Any]:
    row = (
        await session.execute(
            update(tiers)
            .where(tiers.c.name == name)
            .values(**values, updated_at=func.now())
            .returning(*tiers.c)
        )
    ).one()
    return dict(row._mapping)


async def tier_in_use(session: AsyncSession, name: str) -> bool:
    found = await session.scalar(select(tenants.c.slug).where(tenants.c.tier == name).limit(1))
    return found is not None


async def delete_tier(session: AsyncSession, name: str) -> None:
    await session.execute(tiers.delete().where(tiers.c.name == name))


async def get_tenant(
    session: AsyncSession, slug: str, *, lock: bool = False
) -> dict[str, Any] | None:
    query = select(tenants).where(tenants.c.slug == slug)
    return _dict((await session.execute(query.with_for_update() if lock else query)).first())


async def list_tenants(session: AsyncSession, only: tuple[str, ...] | None) -> list[dict[str, Any]]:
    query = select(tenants).order_by(tenants.c.slug)
    if only is not None:
        query = query.where(tenants.c.slug.in_(only))
    return [dict(r._mapping) for r in await session.execute(query)]


async def insert_tenant(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any] | None:
    row = (
        await session.execute(
            insert(tenants).values(**values).on_conflict_do_nothing().returning(*tenants.c)
        )
    ).first()
    return _dict(row)


async def update_tenant(session: AsyncSession, slug: str, values: dict[str, Any]) -> dict[str, Any]:
    row = (
        await session.execute(
            update(tenants)
            .where(tenants.c.slug == slug)
            .values(**values, updated_at=func.now())
            .returning(*tenants.c)
        )
    ).one()
    return dict(row._mapping)


async def insert_source(session: AsyncSession, tenant: str, source: str) -> bool:
    row = (
        await session.execute(
            insert(sources)
            .values(tenant=tenant, source=source)
            .on_conflict_do_nothing()
            .returning(sources.c.source)
        )
    ).first()
    return row is not None


async def source_exists(session: AsyncSession, tenant: str, source: str) -> bool:
    found = await session.scalar(
        select(sources.c.source)
        .where(sources.c.tenant == tenant, sources.c.source == source)
        .with_for_update()
    )
    return found is not None


async def insert_secret(
    session: AsyncSession, tenant: str, source: str, ciphertext: bytes, now: datetime
) -> dict[str, Any]:
    row = (
        await session.execute(
            insert(webhook_secrets)
            .values(
                secret_id=uuid.uuid4(),
                tenant=tenant,
                source=source,
                ciphertext=ciphertext,
                created_at=now,
            )
            .returning(webhook_secrets.c.secret_id, webhook_secrets.c.created_at)
        )
    ).one()
    return dict(row._mapping)


async def expire_secrets(
    session: AsyncSession, tenant: str, source: str, expires_at: datetime
) -> list[uuid.UUID]:
    """Shorten every live secret's validity to ``expires_at`` (rotation grace)."""
    rows = await session.execute(
        update(webhook_secrets)
        .where(
            webhook_secrets.c.tenant == tenant,
            webhook_secrets.c.source == source,
            webhook_secrets.c.revoked_at.is_(None),
            (webhook_secrets.c.expires_at.is_(None)) | (webhook_secrets.c.expires_at > expires_at),
        )
        .values(expires_at=expires_at)
        .returning(webhook_secrets.c.secret_id)
    )
    return [r.secret_id for r in rows]


_INFO = (
    webhook_secrets.c.secret_id,
    webhook_secrets.c.created_at,
    webhook_secrets.c.expires_at,
    webhook_secrets.c.revoked_at,
    webhook_secrets.c.last_used_at,
)


async def list_secrets(session: AsyncSession, tenant: str, source: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(*_INFO)
        .where(webhook_secrets.c.tenant == tenant, webhook_secrets.c.source == source)
        .order_by(webhook_secrets.c.created_at)
    )
    return [dict(r._mapping) for r in rows]


async def revoke_secret(
    session: AsyncSession, tenant: str, source: str, secret_id: uuid.UUID, now: datetime
) -> dict[str, Any] | None:
    row = (
        await session.execute(
            update(webhook_secrets)
            .where(
                webhook_secrets.c.secret_id == secret_id,
                webhook_secrets.c.tenant == tenant,
                webhook_secrets.c.source == source,
            )
            .values(revoked_at=func.coalesce(webhook_secrets.c.revoked_at, now))
            .returning(*_INFO)
        )
    ).first()
    return _dict(row)


async def list_sources(session: AsyncSession, tenant: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(sources.c.source, sources.c.created_at)
        .where(sources.c.tenant == tenant)
        .order_by(sources.c.source)
    )
    return [dict(r) for r in rows.mappings()]


async def usage_counts(session: AsyncSession, tenant: str, windows: list[str]) -> dict[str, int]:
    rows = await session.execute(
        select(usage_counters.c.window, usage_counters.c.count).where(
            usage_counters.c.tenant == tenant, usage_counters.c.window.in_(windows)
        )
    )
    return {window: int(count) for window, count in rows.all()}
