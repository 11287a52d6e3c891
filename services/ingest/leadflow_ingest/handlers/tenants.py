"""Tenant use cases: create, change name/region/tier. Each is one ``command``."""

from __future__ import annotations

from typing import Any

from servicekit.commands import Conflict, Invalid, NotFound, command
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.handlers.views import TenantOut


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A tenant row as its ``config.changed`` snapshot (what the API shows)."""
    return TenantOut.model_validate(row).model_dump(mode="json")


def no_tenant(slug: str) -> NotFound:
    return NotFound(f"There is no tenant {slug!r}.")


async def _require_tier(session: AsyncSession, tier: str) -> None:
    if await store.get_tier(session, tier) is None:
        raise Invalid(
            f"There is no tier {tier!r}; create it first (POST /v1/tiers).",
            title="Unknown tier",
            field="body.tier",
            message="unknown tier",
        )


async def create_tenant(runtime: Runtime, *, actor: str, fields: dict[str, Any]) -> dict[str, Any]:
    slug = fields["slug"]
    async with command(runtime, actor=actor) as cmd:
        await _require_tier(cmd.session, fields["tier"])
        row = await store.insert_tenant(cmd.session, fields)
        if row is None:
            raise Conflict(f"Tenant {slug!r} exists.")
        await cmd.created(slug, "tenant", slug, public(row))
    return row


async def change_tenant(
    runtime: Runtime, *, actor: str, slug: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``changes`` (possibly none: then the tenant as it is, and no event)."""
    async with command(runtime, actor=actor) as cmd:
        before = await store.get_tenant(cmd.session, slug, lock=True)
        if before is None:
            raise no_tenant(slug)
        if "tier" in changes:
            await _require_tier(cmd.session, changes["tier"])
        if not changes:
            return before
        row = await store.update_tenant(cmd.session, slug, changes)
        await cmd.updated(slug, "tenant", slug, public(before), public(row))
    return row
