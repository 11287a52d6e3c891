"""Operator commands: ``python -m leadflow_ingest reencrypt``.

``reencrypt`` rotates the encryption key of the webhook secrets at rest: with
``LEADFLOW_SECRET_ENCRYPTION_KEY=<new>,<old>`` (the first key encrypts, every key
decrypts) it encrypts every stored secret again with the new key, in one transaction,
while the service keeps running. Afterwards the old key can be dropped from the
setting. Reads ``DATABASE_URL`` like the service; prints ``{"reencrypted": N}``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import orjson
from servicekit.db import create_engine, session_factory
from sqlalchemy import select, update

from leadflow_ingest.adapters.crypto import SecretBox
from leadflow_ingest.adapters.tables import webhook_secrets
from leadflow_ingest.settings import Settings

COMMANDS = ("reencrypt",)


async def reencrypt(settings: Settings) -> int:
    """Every stored secret encrypted again with the first key; returns how many."""
    box = SecretBox(settings.encryption_keys())
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        webhook_secrets.c.secret_id, webhook_secrets.c.ciphertext
                    ).with_for_update()
                )
            ).all()
            for row in rows:
                await session.execute(
                    update(webhook_secrets)
                    .where(webhook_secrets.c.secret_id == row.secret_id)
                    .values(ciphertext=box.rotate(row.ciphertext))
                )
        return len(rows)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Leadflow ingest operator commands.")
    parser.add_argument("command", choices=COMMANDS)
    parser.parse_args(argv)
    count = asyncio.run(reencrypt(Settings()))
    sys.stdout.write(orjson.dumps({"reencrypted": count}).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
