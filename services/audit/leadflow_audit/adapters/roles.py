"""Connect as the writer role, so the database itself refuses UPDATE and DELETE.

In development the service gets a superuser URL; every pooled connection then does
``SET ROLE leadflow_audit_writer`` (a role with SELECT and INSERT on ``events`` only).
Where the URL already names a dedicated role, set ``LEADFLOW_DB_ROLE=""`` to skip it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def act_as(engine: AsyncEngine, role: str) -> None:
    """Every new connection of ``engine`` switches to ``role`` (session-wide)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain PostgreSQL role name: {role!r}")
    statement = f'SET ROLE "{role}"'

    @event.listens_for(engine.sync_engine, "connect")
    def _set_role(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
        # SET is transactional: commit it, or the pool's reset-on-return undoes it.
        dbapi_connection.commit()
