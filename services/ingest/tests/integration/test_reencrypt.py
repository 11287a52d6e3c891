"""``python -m leadflow_ingest reencrypt``: the encryption key of stored secrets rotates."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken
from fastapi.testclient import TestClient
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import DEV_SECRET_ENCRYPTION_KEY, Settings
from pydantic import SecretStr
from servicekit.db import libpq_url
from servicekit.settings import DEV_JWT_SECRET


def _ciphertexts(database_url: str) -> list[bytes]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        return [bytes(r[0]) for r in conn.execute("SELECT ciphertext FROM webhook_secrets")]


async def test_reencrypt_moves_every_secret_to_the_new_key(
    ready: Settings, kit: Any, make_slug: Any
) -> None:
    with TestClient(create_app(ready)) as client:  # dev mode: the dev key encrypts
        tenant = kit.provision(client, make_slug("rekey"))
    new_key = Fernet.generate_key().decode()
    before = _ciphertexts(ready.database_url)
    Fernet(DEV_SECRET_ENCRYPTION_KEY.encode()).decrypt(before[0])

    env = os.environ | {
        "DATABASE_URL": ready.database_url,
        "LEADFLOW_SECRET_ENCRYPTION_KEY": f"{new_key},{DEV_SECRET_ENCRYPTION_KEY}",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "leadflow_ingest", "reencrypt"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f'{{"reencrypted":{len(before)}}}'

    after = _ciphertexts(ready.database_url)
    for token in after:
        Fernet(new_key.encode()).decrypt(token)
        try:
            Fernet(DEV_SECRET_ENCRYPTION_KEY.encode()).decrypt(token)
        except InvalidToken:
            pass
        else:
            raise AssertionError("a secret still decrypts with the old key")

    # A service that knows only the new key verifies the tenant's webhooks.
    only_new = ready.model_copy(
        update={
            "secret_encryption_key": SecretStr(new_key),
            "admin_jwt_secret": SecretStr(DEV_JWT_SECRET),
            "dev_mode": False,
        }
    )
    with TestClient(create_app(only_new)) as client:
        raw, headers = kit.signed(tenant.secret, {"email": "rekey@corp.example"})
        answer = client.post(tenant.url, content=raw, headers=headers)
        assert answer.status_code == 202, answer.text
