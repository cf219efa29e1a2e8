"""The inbox: every update, stored before it is acknowledged, until it is processed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import iso
from bot.db.database import Database, Script, Statement


@dataclass(frozen=True)
class Incoming:
    """An update as it arrives: its id, its lane and its JSON body; ``unreadable`` when it
    cannot be read as an update (it is kept, for a person to look at, and not processed)."""

    update_id: int
    lane: int
    body: str
    unreadable: bool = False


@dataclass(frozen=True)
class Pending:
    update_id: int
    lane: int
    body: str
    attempts: int


async def store(db: Database, batch: Sequence[Incoming], now: dt.datetime) -> list[Incoming]:
    """Store a batch in one transaction and move the stored offset past it.

    Returns the updates that were new (an update seen before is not stored twice).
    """
    if not batch:
        return []
    return await db.run(store_steps(batch, now), first=True)


def store_steps(batch: Sequence[Incoming], now: dt.datetime) -> Script[list[Incoming]]:
    """:func:`store` as a script: on SQLite one trip to the writer, ahead of the presses
    waiting for it (the next ``getUpdates`` waits for this one)."""
    ids = [u.update_id for u in batch]
    marks = ",".join("?" * len(ids))
    seen = {
        row[0] for row in (yield (f"SELECT update_id FROM inbox WHERE update_id IN ({marks})", ids))
    }
    fresh = [u for u in batch if u.update_id not in seen]
    if fresh:
        stamp = iso(now)
        rows = ",".join(["(?, ?, ?, ?, ?)"] * len(fresh))
        yield (
            f"INSERT INTO inbox (update_id, lane, body, received_at, done_at) VALUES {rows}",
            [
                value
                for u in fresh
                for value in (u.update_id, u.lane, u.body, stamp, stamp if u.unreadable else None)
            ],
        )
    yield (
        "UPDATE meta SET value = ? WHERE key = 'intake_offset' AND CAST(value AS INTEGER) < ?",
        (str(max(ids) + 1), max(ids) + 1),
    )
    return fresh


async def offset(db: Database) -> int:
    """The first update id not yet stored: where getUpdates continues after a restart."""
    value = await db.fetchval("SELECT value FROM meta WHERE key = 'intake_offset'")
    return int(value or 0)


async def pending(db: Database) -> list[Pending]:
    """Updates stored but not processed, in arrival order."""
    rows = await db.fetchall(
        "SELECT update_id, lane, body, attempts FROM inbox WHERE done_at IS NULL ORDER BY update_id"
    )
    return [Pending(r["update_id"], r["lane"], r["body"], r["attempts"]) for r in rows]


async def pending_in(db: Database, lane: int) -> list[Pending]:
    """One lane's updates stored but not processed, in update order."""
    rows = await db.fetchall(
        "SELECT update_id, lane, body, attempts FROM inbox WHERE done_at IS NULL AND lane = ? "
        "ORDER BY update_id",
        (lane,),
    )
    return [Pending(r["update_id"], r["lane"], r["body"], r["attempts"]) for r in rows]


async def waiting_lanes(db: Database, stored_before: dt.datetime) -> list[int]:
    """The lanes with updates stored before ``stored_before`` and not processed yet."""
    rows = await db.fetchall(
        "SELECT DISTINCT lane FROM inbox WHERE done_at IS NULL AND received_at < ?",
        (iso(stored_before),),
    )
    return [int(r[0]) for r in rows]


async def mark_done(db: Database, update_ids: Sequence[int], now: dt.datetime) -> None:
    """Processed (one statement: on PostgreSQL it does not wait behind the bot's writes;
    only the lane's holder touches these rows now)."""
    for start in range(0, len(update_ids), 500):
        chunk = list(update_ids[start : start + 500])
        await db.at_once(
            f"UPDATE inbox SET done_at = ? WHERE update_id IN ({','.join('?' * len(chunk))}) "
            "AND done_at IS NULL",
            (iso(now), *chunk),
        )


async def prune(db: Database, before: dt.datetime) -> int:
    """Forget processed updates older than ``before``; return how many."""
    async with db.transaction() as tx:
        cursor = await tx.execute(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (iso(before),)
        )
        return cursor.rowcount


def forget_step(update_id: int, now: dt.datetime) -> Statement:
    """Keep no trace of who sent an update once it is applied (a ballot answer: its body
    and lane would link the account to the answer); it counts as done. A step of a
    script (bot.db.database.Script): the press's transaction runs it."""
    return (
        "UPDATE inbox SET body = '{}', lane = 0, done_at = COALESCE(done_at, ?) "
        "WHERE update_id = ?",
        (iso(now), update_id),
    )
