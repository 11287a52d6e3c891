"""Source and webhook-secret use cases. A secret's value leaves only in ``Issued``
(once, for the response); ``config.changed`` carries ids, never values."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from servicekit.commands import Command, Conflict, Invalid, NotFound, command
from servicekit.runtime import Runtime
from sqlalchemy.ext.asyncio import AsyncSession

from leadflow_ingest.adapters import config_store as store
from leadflow_ingest.domain.signatures import new_secret
from leadflow_ingest.domain.sources.registry import ADAPTERS
from leadflow_ingest.handlers.tenants import no_tenant
from leadflow_ingest.handlers.views import SecretInfo

Seal = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Issued:
    secret_id: uuid.UUID
    value: str
    created_at: datetime


def secret_info(row: dict[str, Any], now: datetime) -> SecretInfo:
    expires = row["expires_at"]
    active = row["revoked_at"] is None and (expires is None or now < expires)
    return SecretInfo(**row, active=active)


async def require_source(session: AsyncSession, slug: str, source: str) -> None:
    if await store.get_tenant(session, slug) is None:
        raise no_tenant(slug)
    if not await store.source_exists(session, slug, source):
        raise NotFound(f"Tenant {slug!r} has no source {source!r}.")


@dataclass(frozen=True)
class SourceSecrets:
    """The source and secret use cases, wired once with what each needs: the runtime, the
    key that seals a secret, the clock, and ``changed`` (told the tenant whose cached
    configuration a committed change made stale)."""

    runtime: Runtime
    seal: Seal
    clock: Callable[[], datetime]
    changed: Callable[[str], None]

    async def add_source(self, actor: str, slug: str, source: str) -> Issued:
        if source not in ADAPTERS:
            raise Invalid(
                f"Supported sources: {', '.join(sorted(ADAPTERS))} (GET /v1/sources).",
                title="Unknown source",
                field="body.source",
                message="unknown source",
            )
        async with command(self.runtime, actor=actor) as cmd:
            if await store.get_tenant(cmd.session, slug) is None:
                raise no_tenant(slug)
            if not await store.insert_source(cmd.session, slug, source):
                raise Conflict(
                    f"Source {source!r} exists; rotate its secret with POST "
                    f"/v1/tenants/{slug}/sources/{source}/secrets:rotate."
                )
            issued = await self._issue(cmd, slug, source)
            await cmd.created(
                slug,
                "source",
                f"{slug}/{source}",
                {"source": source, "secret_id": str(issued.secret_id)},
            )
        self.changed(slug)
        return issued

    async def rotate(self, actor: str, slug: str, source: str, grace_seconds: int) -> Issued:
        """A new secret; the current ones stay valid for ``grace_seconds`` more."""
        async with command(self.runtime, actor=actor) as cmd:
            await require_source(cmd.session, slug, source)
            expires_at = self.clock() + timedelta(seconds=grace_seconds)
            expiring = await store.expire_secrets(cmd.session, slug, source, expires_at)
            issued = await self._issue(cmd, slug, source)
            await cmd.created(
                slug,
                "secret",
                str(issued.secret_id),
                {
                    "source": source,
                    "grace_seconds": grace_seconds,
                    "previous_expire_at": expires_at.isoformat(),
                    "previous": [str(s) for s in expiring],
                },
            )
        self.changed(slug)
        return issued

    async def revoke(self, actor: str, slug: str, source: str, secret_id: uuid.UUID) -> None:
        async with command(self.runtime, actor=actor) as cmd:
            await require_source(cmd.session, slug, source)
            row = await store.revoke_secret(cmd.session, slug, source, secret_id, self.clock())
            if row is None:
                raise NotFound(f"No secret {secret_id}.")
            await cmd.deleted(slug, "secret", str(secret_id), {"source": source})
        self.changed(slug)

    async def _issue(self, cmd: Command, slug: str, source: str) -> Issued:
        value, key = new_secret()
        row = await store.insert_secret(cmd.session, slug, source, self.seal(key), self.clock())
        return Issued(row["secret_id"], value, row["created_at"])
