"""Which backend a database is: the one place that knows both (a file is SQLite, a
``postgresql://`` URL is PostgreSQL, design §13). PostgreSQL's module, and asyncpg with
it, is imported only when a URL is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.db.database import (
    Database,
    SqliteDatabase,
    file_rounds,
    is_url,
    migrations,
    refusal,
    schema_version,
)
from bot.db.roundfile import RoundFile


async def open_database(
    target: Path | str,
    claim: RoundFile | str | None = None,
    functions: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Database:
    """Open (creating if needed), migrate, and check that ``claim`` (a campaign file, or
    just its id) is the database's current round (design §12): a database no campaign
    has claimed becomes this one's; the current round's file is kept as last run; an
    earlier round's file, or a new round's that was not opened, is refused.

    ``functions`` are SQL functions of one argument some SQLite migrations call to
    convert stored data (0008: ``evalbot_pseudonym``, ``evalbot_origin``, which need the
    ballot key); without them, a migration that has such data to convert stops with an
    error. (A PostgreSQL database starts at a later schema and needs none.)
    """
    if is_url(target):
        from bot.db.postgres import PgDatabase

        return await PgDatabase.connect(str(target), claim)
    return await SqliteDatabase.connect(target, claim, functions)


async def pending_migrations(target: str) -> tuple[int, list[str]]:
    """The database's schema version, and the migrations this code would run on it
    (``evalbot migrate --dry-run``), read without changing anything."""
    if is_url(target):
        from bot.db import postgres

        version = await postgres.version_of(target)
        known = postgres.migrations()
    else:
        version = schema_version(Path(target))
        known = migrations()
    start = max(version, known[0][0] - 1 if known else 0)
    return version, [name for number, name, _ in known if number > start]


async def check_claim(target: str, claim_id: str) -> None:
    """What :func:`open_database` would say of ``claim_id``, read without opening the
    database for writing or migrating it (``evalbot run`` asks before reaching Telegram)."""
    if is_url(target):
        from bot.db.postgres import current_rounds, hide_password

        refused = refusal(hide_password(target), await current_rounds(target), claim_id)
    else:
        refused = refusal(target, file_rounds(Path(target)), claim_id)
    if refused is not None:
        raise refused
