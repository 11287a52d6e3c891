"""Operator commands: ``python -m leadflow_audit.cli {rebuild-projection,verify}``.

``rebuild-projection`` recomputes ``lead_status`` from the ``events`` table alone (under
the append lock, while the service keeps running); ``verify`` walks the hash chain and
exits 1 if it is broken. Both read ``DATABASE_URL`` like the service.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import orjson
from servicekit.db import create_engine, session_factory

from leadflow_audit.adapters.roles import act_as
from leadflow_audit.adapters.store import EventStore
from leadflow_audit.settings import Settings

COMMANDS = ("rebuild-projection", "verify")


async def run(command: str, settings: Settings) -> dict[str, object]:
    engine = create_engine(settings.database_url, pool_size=1)
    if settings.db_role:
        act_as(engine, settings.db_role)
    store = EventStore(session_factory(engine))
    try:
        if command == "rebuild-projection":
            return {"leads": await store.rebuild_projection()}
        verdict, _ = await store.verify()
        return {
            "ok": verdict.ok,
            "count": verdict.count,
            "first_broken_position": verdict.first_broken_position,
            "reason": verdict.reason,
        }
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Leadflow audit operator commands.")
    parser.add_argument("command", choices=COMMANDS)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.command, Settings()))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
