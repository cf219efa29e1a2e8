"""Ballots, their hash-chained log, the window, and the messages that carry ballots."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.clock import iso
from bot.db import tallies
from bot.db.database import CURRENT, Database, Script, Statement, Tx, Writes, drive, is_url
from bot.db.inbox import forget_step
from bot.errors import UserError

GENESIS = "0" * 64


@dataclass(frozen=True)
class LogEntry:
    round: str
    seq: int
    voter: str
    unit_id: str
    item_id: str
    category: str
    answer: str | None
    at: str
    prev: str
    hash: str


def entry_hash(
    prev: str, voter: str, unit_id: str, item_id: str, category: str, answer: str | None, at: str
) -> str:
    """The hash of a log entry: its content and the hash of the entry before it."""
    body = json.dumps(
        [prev, voter, unit_id, item_id, category, answer, at],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def get_meta(db: Database, key: str) -> str | None:
    value = await db.fetchval("SELECT value FROM meta WHERE key = ?", (key,))
    return None if value is None else str(value)


async def set_meta(tx: Tx, key: str, value: str) -> None:
    await tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def drop_meta(tx: Tx, key: str) -> None:
    await tx.execute("DELETE FROM meta WHERE key = ?", (key,))


CURRENT_ANSWER = (
    f"SELECT answer FROM ballots WHERE round = {CURRENT} AND voter = ? AND unit_id = ? "
    "AND item_id = ?"
)
# the head of the current round's chain (None before its first entry)
HEAD = f"SELECT hash FROM ballot_log WHERE round = {CURRENT} ORDER BY seq DESC LIMIT 1"


async def record(
    tx: Tx,
    voter: str,
    unit_id: str,
    item_id: str,
    category: str,
    answer: str,
    now: dt.datetime,
    origin: str,
) -> str:
    """Set a ballot of the current round (replacing the voter's earlier answer) and append
    it to the round's log; return the new head of the round's chain. Call inside a
    transaction (:func:`cast` is a whole press)."""
    return await drive(tx, record_steps(voter, unit_id, item_id, category, answer, now, origin))


def record_steps(
    voter: str,
    unit_id: str,
    item_id: str,
    category: str,
    answer: str,
    now: dt.datetime,
    origin: str,
) -> Script[str]:
    """:func:`record` as a script's steps (bot.db.database.Script)."""
    rows = yield (f"SELECT ({CURRENT_ANSWER}), ({HEAD})", (voter, unit_id, item_id))
    before = None if rows[0][0] is None else str(rows[0][0])
    prev = str(rows[0][1] or GENESIS)
    statements, digest = _writes(
        voter, unit_id, item_id, category, answer, now, origin, before, prev
    )
    yield Writes(statements)
    return digest


def _writes(
    voter: str,
    unit_id: str,
    item_id: str,
    category: str,
    answer: str,
    now: dt.datetime,
    origin: str,
    before: str | None,
    prev: str,
) -> tuple[tuple[Statement, ...], str]:
    """A ballot's writes, independent of each other (bot.db.database.Writes), its answer
    until now (``before``) and the chain's head (``prev``) read in the same transaction:
    the tallies, the ballot, and the log's next entry; and the log entry's hash."""
    at = iso(now)
    digest = entry_hash(prev, voter, unit_id, item_id, category, answer, at)
    return (
        *tallies.changes(unit_id, item_id, category, before, answer),
        (
            "INSERT INTO ballots (round, voter, unit_id, item_id, category, answer, answered_at) "
            f"VALUES ({CURRENT}, ?, ?, ?, ?, ?, ?) ON CONFLICT (round, voter, unit_id, item_id) "
            "DO UPDATE "
            "SET answer = excluded.answer, answered_at = excluded.answered_at",
            (voter, unit_id, item_id, category, answer, at),
        ),
        (
            "INSERT INTO ballot_log (round, voter, unit_id, item_id, category, answer, at, "
            f"prev, hash, origin) VALUES ({CURRENT}, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (voter, unit_id, item_id, category, answer, at, prev, digest, origin),
        ),
    ), digest


class Answered(StrEnum):
    """What became of an answer pressed (:func:`cast`)."""

    REPLAYED = "replayed"  # this update was recorded already (a replay after a crash)
    SAME = "same"  # the answer was chosen already: nothing changes
    RECORDED = "recorded"


def cast_steps(
    voter: str,
    unit_id: str,
    item_id: str,
    category: str,
    answer: str,
    now: dt.datetime,
    origin: str,
    update_id: int,
    allow: Callable[[], bool],
) -> Script[Answered]:
    """An evaluator's press, whole, as steps of one transaction: recorded once per
    ``origin``; the answer already chosen changes nothing; ``allow`` (the burst throttle,
    asked only for a change) may refuse it; the update that carried it is forgotten
    (bot.db.inbox.forget_step)."""
    rows = yield (
        f"SELECT EXISTS (SELECT 1 FROM ballot_log WHERE origin = ?), ({CURRENT_ANSWER}), ({HEAD})",
        (origin, voter, unit_id, item_id),
    )
    logged, chosen, prev = rows[0][0], rows[0][1], rows[0][2]
    if logged:
        return Answered.REPLAYED
    if chosen == answer:
        yield forget_step(update_id, now)
        return Answered.SAME
    if not allow():
        raise UserError("ballots/too_fast")
    before = None if chosen is None else str(chosen)
    statements, _ = _writes(voter, unit_id, item_id, category, answer, now, origin, before,
                            str(prev or GENESIS))  # fmt: skip
    # (the update forgotten is the inbox's row: independent of the ballot's)
    yield Writes((*statements, forget_step(update_id, now)))
    return Answered.RECORDED


async def any_cast(db: Database) -> bool:
    """Whether any ballot was ever cast (in any round)."""
    return await db.fetchval("SELECT 1 FROM ballot_log LIMIT 1") is not None


async def head(db: Database, round_id: str | None = None) -> str:
    """The head of a round's chain (None: the current round's)."""
    value = await db.fetchval(
        f"SELECT hash FROM ballot_log WHERE round = COALESCE(?, {CURRENT}) "
        "ORDER BY seq DESC LIMIT 1",
        (round_id,),
    )
    return str(value) if value else GENESIS


async def answered_counts(db: Database) -> dict[str, int]:
    """How many ballots of the current round each pseudonym has answered."""
    rows = await db.fetchall(
        f"SELECT voter, COUNT(*) AS n FROM ballots WHERE round = {CURRENT} GROUP BY voter"
    )
    return {str(r["voter"]): int(r["n"]) for r in rows}


async def answers_of(db: Database, voter: str) -> dict[tuple[str, str], str]:
    """One pseudonym's answers in the current round, by unit and item (what their card
    shows)."""
    return await db.read(answers_of_steps(voter))


def answers_of_steps(voter: str) -> Script[dict[tuple[str, str], str]]:
    rows = yield (
        f"SELECT unit_id, item_id, answer FROM ballots WHERE round = {CURRENT} AND voter = ?",
        (voter,),
    )
    return {(r["unit_id"], r["item_id"]): str(r["answer"]) for r in rows}


@dataclass(frozen=True)
class Snapshot:
    """What ``evalbot verify`` reads, in one consistent snapshot of the database."""

    rounds: list[str]  # every round's id, in the order opened
    log: list[LogEntry]  # round by round, each round's in order
    stored: dict[tallies.Key, int]  # the stored ballots, counted
    running: dict[tallies.Key, int]  # the running tallies


SNAPSHOT_SQL = (
    "SELECT id FROM rounds ORDER BY seq",
    "SELECT l.round, l.seq, l.voter, l.unit_id, l.item_id, l.category, l.answer, l.at, "
    "l.prev, l.hash FROM ballot_log l LEFT JOIN rounds r ON r.id = l.round "
    "ORDER BY r.seq, l.seq",
    "SELECT round, unit_id, item_id, category, answer, COUNT(*) FROM ballots "
    "GROUP BY round, unit_id, item_id, category, answer",
    "SELECT round, unit_id, item_id, category, answer, count FROM tallies WHERE count > 0",
)


def _read_file(path: Path, queries: tuple[str, ...]) -> list[list[Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")  # one read transaction: one snapshot, the bot writing or not
        return [conn.execute(q).fetchall() for q in queries]
    finally:
        conn.close()


async def snapshot(target: str) -> Snapshot:
    """Read the rounds, the log, the ballots counted and the running tallies as of one
    moment, without migrating or writing anything (a SQLite file is opened read-only)."""
    if is_url(target):
        from bot.db.postgres import read_snapshot

        found = await read_snapshot(target, SNAPSHOT_SQL)
    else:
        found = await asyncio.to_thread(_read_file, Path(target), SNAPSHOT_SQL)
    rounds, log, stored, running = found
    return Snapshot(
        [str(r[0]) for r in rounds],
        [LogEntry(*r) for r in log],
        {(r[0], r[1], r[2], r[3], r[4]): int(r[5]) for r in stored},
        {(r[0], r[1], r[2], r[3], r[4]): int(r[5]) for r in running},
    )
