"""What a database error puts in a log line names the SQL, never the values."""

from __future__ import annotations

import pytest
from servicekit.db import create_engine
from servicekit.logging import error_text
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


async def test_database_errors_do_not_carry_user_data(database_url: str) -> None:
    planted = "planted.user@corp.example"
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as caught:
                await conn.execute(text("SELECT CAST(:email AS integer)"), {"email": planted})
    finally:
        await engine.dispose()
    assert planted in str(caught.value)  # PostgreSQL's own message quotes the value …
    assert "parameters hidden" in str(caught.value)  # … SQLAlchemy's part does not
    logged = error_text(caught.value)  # what handlers log
    assert planted not in logged
    assert "SQLSTATE 22P02" in logged
    assert "CAST" in logged
