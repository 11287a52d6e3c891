"""Below the API, on purpose: a stored rule set this release cannot load.

No public API stores a rule set that breaks scoring (every PUT is validated). What a
newer release (or a hand edit) can leave behind is a version with a condition kind this
release does not know; the demo and the poison journey write one into scoring's
database to show the dead-letter path. Everything after it goes through the APIs."""

from __future__ import annotations

import orjson
import psycopg

UNKNOWN_KIND_RULE = {
    "id": "intent-model",
    "description": "Buying intent from the ML model (needs a newer release)",
    "category": "engagement",
    "points": 30,
    "condition": {"kind": "intent_model", "model": "v7", "min": 0.8},
}


async def store_unloadable_rule_set(url: str, slug: str) -> int:
    """What a newer release (or a hand edit) leaves behind: a stored version this
    release cannot validate (in scoring's database at ``url``). The API refuses to create
    one, so it is written in SQL."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (
            await conn.execute(
                "SELECT version, rules, weights, threshold FROM rule_set_versions "
                "WHERE tenant = %s ORDER BY version DESC LIMIT 1",
                (slug,),
            )
        ).fetchone()
        if row is None:
            raise LookupError(f"tenant {slug!r} has no stored scoring rule set")
        version, rules, weights, threshold = row
        await conn.execute(
            "INSERT INTO rule_set_versions "
            "(tenant, version, rules, weights, threshold, created_by) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                slug,
                version + 1,
                orjson.dumps([*rules, UNKNOWN_KIND_RULE]).decode(),
                orjson.dumps(weights).decode(),
                threshold,
                "release-2.0-migration",
            ),
        )
    return int(version) + 1
