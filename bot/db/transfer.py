"""``evalbot migrate-db``: copy a SQLite database into an empty PostgreSQL database.

The file is read in one read transaction (one snapshot; stop the bot first all the same,
or what it writes afterwards stays behind), the target written in one transaction, so a
failed copy leaves the target as empty as it was. Every table at the same schema version
is copied column by column (COPY), the search index rebuilt from the cases' texts (SQLite's
FTS5 table keeps no text to copy), the identity sequences moved past the ids copied; then
every table's rows are counted on both sides and the copy's ballots recounted from its log
(``evalbot verify``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bot.db import search
from bot.db.backends import open_database
from bot.db.database import migrations
from bot.db.postgres import convert, hide_password
from bot.errors import DatabaseError

CHUNK = 5000  # rows per COPY

# in an order that keeps the foreign keys (users before user_sources, cases before their
# attachments and events, invites before roles); case_words is rebuilt, not copied, and
# the instances' own bookkeeping (leases, the shared pace) starts afresh on PostgreSQL
TABLES = (
    "meta",
    "rounds",
    "inbox",
    "users",
    "user_sources",
    "drafts",
    "cases",
    "case_attachments",
    "case_events",
    "outbox",
    "invites",
    "roles",
    "findings",
    "ballots",
    "ballot_log",
    "tallies",
    "ballot_cards",
    "card_messages",
    "daily_scores",
    "proposals",
    "publications",
    "subscribers",
    "blobs",
    "console_links",
    "console_sessions",
    "audit",
)
IDENTITIES = {
    "cases": "id",
    "case_events": "id",
    "outbox": "id",
    "findings": "id",
    "ballot_log": "seq",
    "proposals": "id",
    "publications": "id",
    "blobs": "id",
    "audit": "id",
}
GUARDED = ("ballots", "ballot_log", "tallies")  # their triggers refuse earlier rounds' rows


@dataclass
class Report:
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (file, copy)
    verified: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verified and all(a == b for a, b in self.counts.values())

    def summary(self) -> list[str]:
        lines = [
            f"  {table:<17} {a:>9,} rows in the file, {b:>9,} in the copy"
            + ("" if a == b else "  ← DIFFERENT")
            for table, (a, b) in self.counts.items()
        ]
        lines.append(
            "the copy's ballots recount to its tallies: "
            + ("OK" if self.verified else "NO: " + "; ".join(self.problems[:5]))
        )
        lines.append("copied: every table's rows match" if self.ok else "the copy is NOT whole")
        return lines


async def copy_database(source: Path, url: str, say: Callable[[str], None]) -> Report:
    """Copy the SQLite file ``source`` into the empty PostgreSQL database at ``url``,
    saying how far it is with ``say``. The copy's ballots are recounted by the caller
    (``evalbot migrate-db``, with :func:`bot.ballots.evaluation.verify`: the domain's
    recount), which fills in ``verified``."""
    # bring the file to this code's schema first (as `evalbot run` would at its start)
    opened = await open_database(source)
    await opened.close()
    target = await open_database(url)  # creates the schema, or checks it is current
    await target.close()
    version = len(migrations())
    conn = await asyncpg.connect(url)
    report = Report()
    try:
        if await conn.fetchval("SELECT version FROM evalbot_schema") != version:
            raise DatabaseError(f"{hide_password(url)} is not at schema version {version}")
        for table in ("rounds", "users", "cases", "ballots", "inbox", "outbox"):
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # our names
                raise DatabaseError(f"{hide_password(url)} is not empty (its {table} has rows)")
        file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            file.execute("BEGIN")  # one snapshot of the file
            async with conn.transaction():
                await conn.execute("DELETE FROM meta")  # the schema's own first rows
                for table in GUARDED:
                    await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                for table in TABLES:
                    report.counts[table] = (0, await _copy_table(file, conn, table, say))
                written = await _rebuild_words(file, conn)
                say(f"  case_words: rebuilt for {written:,} cases")
                for table in GUARDED:
                    await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                for table, column in IDENTITIES.items():
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                        f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
                    )
            for table in TABLES:
                found = file.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                copied = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
                report.counts[table] = (int(found), int(copied))
        finally:
            file.close()
    finally:
        await conn.close()
    return report


async def _columns(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT column_name, udt_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    return [(str(r[0]), str(r[1])) for r in rows]


async def _copy_table(
    file: sqlite3.Connection, conn: asyncpg.Connection, table: str, say: Callable[[str], None]
) -> int:
    columns = await _columns(conn, table)
    names = [name for name, _ in columns]
    total = int(file.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    quoted = ", ".join(f'"{n}"' for n in names)
    cursor = file.execute(f"SELECT {quoted} FROM {table}")
    done = 0
    while True:
        chunk = cursor.fetchmany(CHUNK)
        if not chunk:
            break
        records = [
            tuple(convert(value, kind) for value, (_, kind) in zip(row, columns, strict=True))
            for row in chunk
        ]
        await conn.copy_records_to_table(table, records=records, columns=names)
        done += len(records)
        if total > CHUNK:
            say(f"  {table}: {done:,} of {total:,} rows")
    say(f"  {table}: {done:,} rows copied")
    return done


async def _rebuild_words(file: sqlite3.Connection, conn: asyncpg.Connection) -> int:
    rows: list[Any] = [
        (int(case_id), search.words(str(text)))
        for case_id, text in file.execute("SELECT id, text FROM cases ORDER BY id")
    ]
    if rows:
        await conn.copy_records_to_table("case_words", records=rows, columns=["rowid", "words"])
    return len(rows)
