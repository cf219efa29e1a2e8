"""What only the PostgreSQL backend has: its schema beside SQLite's, `evalbot migrate-db`,
`evalbot backup` saying what to use instead, and `evalbot verify` on a URL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bot.db import open_database
from bot.db import postgres as pg
from bot.db.database import migrations
from bot.db.transfer import TABLES
from tests.support.backends import cluster, new_database
from tests.support.harness import Harness, file_one
from tests.support.helpers import evaluators, press, substantiate

EVALBOT = [sys.executable, "-m", "bot.cli"]


def evalbot(*args: str, db: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EVALBOT_BALLOT_KEY"}
    env.update(extra)
    if db is not None:
        env["EVALBOT_DB"] = db
    return subprocess.run(
        [*EVALBOT, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


async def test_the_two_schemas_have_the_same_tables_and_columns(tmp_path: Path) -> None:
    url = await new_database()
    await (await open_database(url)).close()
    await (await open_database(tmp_path / "s.sqlite3")).close()
    assert pg.migrations()[-1][0] == len(migrations())  # both at the same version
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name != 'evalbot_schema'"
        )
        version = await conn.fetchval("SELECT version FROM evalbot_schema")
    finally:
        await conn.close()
    on_pg: dict[str, set[str]] = {}
    for r in rows:
        on_pg.setdefault(str(r[0]), set()).add(str(r[1]))
    file = sqlite3.connect(tmp_path / "s.sqlite3")
    try:
        names = [
            str(r[0])
            for r in file.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            if not str(r[0]).startswith(("sqlite_", "case_words_"))
        ]
        on_sqlite = {
            name: {str(c[1]) for c in file.execute(f"PRAGMA table_info({name})")} for name in names
        }
    finally:
        file.close()
    on_sqlite["case_words"] = {"rowid", "words"}  # FTS5 lists only its columns, not rowid
    assert version == len(migrations())
    assert on_pg == on_sqlite


@pytest.fixture
def backend() -> str:
    """The harness starts on SQLite here: the copy goes from a SQLite file."""
    cluster()  # (and needs PostgreSQL to copy into)
    return "sqlite"


async def test_a_sqlite_database_copied_into_postgresql_runs_on(
    harness: Harness, tmp_path: Path
) -> None:
    resident = harness.resident(2401)
    assert "案件编号是 1" in await file_one(resident)
    await substantiate(harness, 1)
    people = await evaluators(harness, 2)
    for n, person in enumerate(people):
        assert "已记录" in await press(person, "service", n, harness)
    await harness.settle()
    await harness.bot.stop()
    url = await new_database()

    done = evalbot("migrate-db", "--from", str(harness.db_path), "--to", url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cases: 1 rows copied" in done.stdout  # its progress, table by table
    assert "ballot_log: 2 rows copied" in done.stdout
    assert "the copy's ballots recount to its tallies: OK" in done.stdout
    assert "copied: every table's rows match" in done.stdout
    assert "DIFFERENT" not in done.stdout
    with sqlite3.connect(harness.db_path) as file:  # every table is copied (search: rebuilt)
        tables = {
            str(r[0])
            for r in file.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(r[0]).startswith(("sqlite_", "case_words"))
        }
    assert tables - {"leases", "send_pace", "chat_pace"} == set(TABLES)  # (the instances' own)
    again = evalbot("migrate-db", "--from", str(harness.db_path), "--to", url)
    assert again.returncode == 2 and "is not empty" in again.stderr  # never into a used one

    verified = evalbot("verify", db=url)
    assert verified.returncode == 0 and "2 log entries recount" in verified.stdout
    assert "evalbot backup" not in verified.stdout
    backup = evalbot("backup", str(tmp_path / "x"), db=url)
    assert backup.returncode == 2 and "pg_dump" in backup.stderr
    assert not (tmp_path / "x").exists()

    # the bot runs on the copy: the case, its history and the ballots are there
    harness.db = url
    harness.bot = harness.new_bot()
    await harness.bot.start()
    resident.skip_unread()
    await resident.send("/status 1")
    status = (await resident.reply()).text
    assert "东街街道社保所" in status and "属实" in status
    assert await harness.rows("SELECT COUNT(*) FROM ballots") == [(2,)]
    second = harness.resident(2402, "李大爷")
    assert "案件编号是 2" in await file_one(second)  # the ids go on after the copied ones


async def test_run_on_postgresql_asks_for_the_ballot_key_file() -> None:
    url = await new_database()
    done = evalbot("run", "--example", db=url, TELEGRAM_BOT_TOKEN="1:x")
    assert done.returncode == 2, done.stderr
    assert "set EVALBOT_BALLOT_KEY" in done.stderr and "Traceback" not in done.stderr
