"""Ballots, their hash-chained log, the window, and the messages that carry ballots."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from bot.clock import iso
from bot.db import tallies
from bot.db.database import Database, Tx

GENESIS = "0" * 64


@dataclass(frozen=True)
class LogEntry:
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


async def already_logged(tx: Tx, origin: str) -> bool:
    rows = list(await tx.execute_fetchall("SELECT 1 FROM ballot_log WHERE origin = ?", (origin,)))
    return bool(rows)


async def current(tx: Tx, voter: str, unit_id: str, item_id: str) -> str | None:
    rows = list(
        await tx.execute_fetchall(
            "SELECT answer FROM ballots WHERE voter = ? AND unit_id = ? AND item_id = ?",
            (voter, unit_id, item_id),
        )
    )
    return str(rows[0][0]) if rows else None


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
    """Set a ballot (replacing the voter's earlier answer) and append it to the log; return
    the new head of the chain. Call inside a transaction, after :func:`already_logged`."""
    at = iso(now)
    before = await current(tx, voter, unit_id, item_id)
    await tallies.change(tx, unit_id, item_id, category, before, answer)
    await tx.execute(
        "INSERT INTO ballots (voter, unit_id, item_id, category, answer, answered_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (voter, unit_id, item_id) DO UPDATE "
        "SET answer = excluded.answer, answered_at = excluded.answered_at",
        (voter, unit_id, item_id, category, answer, at),
    )
    rows = list(await tx.execute_fetchall("SELECT hash FROM ballot_log ORDER BY seq DESC LIMIT 1"))
    prev = str(rows[0][0]) if rows else GENESIS
    digest = entry_hash(prev, voter, unit_id, item_id, category, answer, at)
    await tx.execute(
        "INSERT INTO ballot_log (voter, unit_id, item_id, category, answer, at, prev, hash, "
        "origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (voter, unit_id, item_id, category, answer, at, prev, digest, origin),
    )
    return digest


async def head(db: Database) -> str:
    value = await db.fetchval("SELECT hash FROM ballot_log ORDER BY seq DESC LIMIT 1")
    return str(value) if value else GENESIS


async def answered_counts(db: Database) -> dict[str, int]:
    """How many ballots each pseudonym has answered."""
    rows = await db.fetchall("SELECT voter, COUNT(*) AS n FROM ballots GROUP BY voter")
    return {str(r["voter"]): int(r["n"]) for r in rows}


async def answers_of(db: Database, voter: str) -> dict[tuple[str, str], str]:
    """One pseudonym's answers, by unit and item (what their card shows)."""
    rows = await db.fetchall(
        "SELECT unit_id, item_id, answer FROM ballots WHERE voter = ?", (voter,)
    )
    return {(r["unit_id"], r["item_id"]): str(r["answer"]) for r in rows}


def read_log(conn: sqlite3.Connection) -> Iterator[LogEntry]:
    """Every log entry in order, from a plain sqlite3 connection (for `evalbot verify`)."""
    for r in conn.execute(
        "SELECT seq, voter, unit_id, item_id, category, answer, at, prev, hash "
        "FROM ballot_log ORDER BY seq"
    ):
        yield LogEntry(*r)


def stored_counts(conn: sqlite3.Connection) -> dict[tallies.Key, int]:
    """The stored ballots counted per unit, item, category and answer (``evalbot verify``)."""
    return {
        (r[0], r[1], r[2], r[3]): int(r[4])
        for r in conn.execute(
            "SELECT unit_id, item_id, category, answer, COUNT(*) FROM ballots "
            "GROUP BY unit_id, item_id, category, answer"
        )
    }
