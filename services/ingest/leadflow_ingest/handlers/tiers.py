"""Tier use cases (tiers are global: their events carry tenant ``*``)."""

from __future__ import annotations

from typing import Any

from servicekit.commands import Conflict, NotFound, command
from servicekit.runtime import Runtime

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.handlers.views import TierOut

GLOBAL = "*"


def public(row: dict[str, Any]) -> dict[str, Any]:
    return TierOut.model_validate(row).model_dump(mode="json")


def no_tier(name: str) -> NotFound:
    return NotFound(f"There is no tier {name!r}.")


async def create_tier(runtime: Runtime, *, actor: str, fields: dict[str, Any]) -> dict[str, Any]:
    name = fields["name"]
    async with command(runtime, actor=actor) as cmd:
        row = await store.insert_tier(cmd.session, fields)
        if row is None:
            raise Conflict(f"Tier {name!r} exists already.")
        await cmd.created(GLOBAL, "tier", name, public(row))
    return row


async def replace_tier(
    runtime: Runtime, *, actor: str, name: str, fields: dict[str, Any]
) -> dict[str, Any]:
    async with command(runtime, actor=actor) as cmd:
        before = await store.get_tier(cmd.session, name, lock=True)
        if before is None:
            raise no_tier(name)
        row = await store.update_tier(cmd.session, name, fields)
        await cmd.updated(GLOBAL, "tier", name, public(before), public(row))
    return row


async def delete_tier(runtime: Runtime, *, actor: str, name: str) -> None:
    async with command(runtime, actor=actor) as cmd:
        before = await store.get_tier(cmd.session, name, lock=True)
        if before is None:
            raise no_tier(name)
        if await store.tier_in_use(cmd.session, name):
            raise Conflict("Move its tenants to another tier first.", title="Tier in use")
        await store.delete_tier(cmd.session, name)
        await cmd.deleted(GLOBAL, "tier", name, public(before))
