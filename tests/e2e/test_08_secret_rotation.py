"""Journey 8: secret rotation with overlap — both secrets work during the grace period,
only the new one after it; a revoked secret stops working at once."""

from __future__ import annotations

from datetime import UTC, datetime

from servicekit.testing.helpers import eventually

#: Long enough for four webhooks on a loaded 2-core CI machine, short enough to wait for.
GRACE_S = 10


async def test_rotation_with_overlap_then_only_new_secret(provision, api, bus) -> None:
    tenant = await provision()
    old = tenant.secret
    accepted: set[str] = set()

    async def send(secret: str | list[str], expect: int) -> None:
        answer = await tenant.send(tenant.lead("rotation"), secret=secret, expect=expect)
        if expect == 202:
            accepted.add(answer.json()["webhook_id"])

    await send(old, 202)
    rotated = await api.rotate_secret(tenant.slug, "generic", GRACE_S)
    new = rotated["secret"]
    assert new.startswith("whsec_")
    assert new != old

    # During the grace period both secrets are accepted, alone or side by side.
    await send(old, 202)
    await send(new, 202)
    await send([old, new], 202)

    secrets = {s["secret_id"]: s for s in await api.list_secrets(tenant.slug, "generic")}
    assert set(secrets) == {tenant.secret_id, str(rotated["secret_id"])}
    assert all("secret" not in s for s in secrets.values()), "values must never be listed"
    previous = secrets[tenant.secret_id]
    assert previous["active"] is True
    assert previous["expires_at"] is not None
    assert secrets[str(rotated["secret_id"])]["expires_at"] is None
    expires_at = datetime.fromisoformat(previous["expires_at"])

    # After the grace period only the new secret works.
    async def old_refused() -> bool:
        answer = await tenant.send(tenant.lead("rotation"), secret=old, expect=None)
        if answer.status_code == 202:
            accepted.add(answer.json()["webhook_id"])
        return answer.status_code == 401

    await eventually(old_refused, timeout_s=GRACE_S + 15, interval_s=0.5, what="old secret refused")
    assert datetime.now(UTC) >= expires_at, "the old secret was refused before its grace ended"
    await send(new, 202)
    await send([old, new], 202)  # a sender still adding the old signature is fine
    secrets = {s["secret_id"]: s for s in await api.list_secrets(tenant.slug, "generic")}
    assert secrets[tenant.secret_id]["active"] is False
    assert secrets[str(rotated["secret_id"])]["last_used_at"] is not None

    # Revocation is immediate, even during a grace period.
    newest = await api.rotate_secret(tenant.slug, "generic", 3600)
    await send(new, 202)
    await api.revoke_secret(tenant.slug, "generic", str(rotated["secret_id"]))
    await send(new, 401)
    await send(newest["secret"], 202)

    # Exactly the accepted webhooks entered the pipeline.
    await bus.wait("lead.received", tenant=tenant.slug, count=len(accepted))
    await bus.settle()
    on_topic = {m.payload["webhook_id"] for m in bus.select("lead.received", tenant=tenant.slug)}
    assert on_topic == accepted
