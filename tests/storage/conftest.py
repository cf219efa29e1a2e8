"""What every storage test starts from: a new database on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.db import Database, open_database


@pytest.fixture
async def db(db_target: str) -> AsyncIterator[Database]:
    """A new database on each backend (tests/conftest.py)."""
    database = await open_database(db_target, "2026-shebao")
    yield database
    await database.close()
