"""The outbox table: notifications waiting to be sent, and what became of them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import iso
from bot.db.database import Database, Tx

SEND_CARD = "sendCard"  # not a Bot API method: the outbox renders a ballot card and sends it


@dataclass(frozen=True)
class Outgoing:
    id: int
    chat_id: int | str  # a channel may be addressed as "@name"
    method: str
    payload: Mapping[str, Any]
    attempts: int


async def enqueue(
    tx: Tx,
    chat_id: int | str,
    method: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
    dedupe_key: str | None = None,
) -> bool:
    """Queue one API call to ``chat_id``; with a ``dedupe_key``, queue it once ever.

    Call it inside the transaction of the change that causes the notification.
    """
    cursor = await tx.execute(
        "INSERT INTO outbox (chat_id, method, payload, dedupe_key, created_at, not_before) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (
            chat_id,
            method,
            json.dumps({**payload, "chat_id": chat_id}, ensure_ascii=False),
            dedupe_key,
            iso(now),
            iso(now),
        ),
    )
    return cursor.rowcount == 1


def chat(value: int | str) -> int | str:
    """A chat as stored: a number, or a channel's "@name" (PostgreSQL keeps both as text)."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


async def due(
    db: Database,
    now: dt.datetime,
    limit: int,
    skip: Sequence[int] = (),
    busy: Sequence[int | str] = (),
    sender: str | None = None,
) -> list[Outgoing]:
    """The oldest notification due by ``now`` of each chat, leaving out the ids in ``skip``
    and the chats in ``busy`` (a chat reads its notifications in order, one at a time, so
    only its oldest can go next); with ``sender`` (instances sharing the database), also
    those another instance reserved."""
    where = "sent_at IS NULL AND failed_at IS NULL AND not_before <= ?"
    params: list[Any] = [iso(now)]
    if skip:
        where += f" AND id NOT IN ({','.join('?' * len(skip))})"
        params += skip
    if busy:
        where += f" AND chat_id NOT IN ({','.join('?' * len(busy))})"
        params += busy
    rows = await db.fetchall(  # (a chat's oldest being sent, by another instance: not yet)
        "SELECT id, chat_id, method, payload, attempts FROM outbox WHERE id IN "
        f"(SELECT MIN(id) FROM outbox WHERE {where} GROUP BY chat_id) AND sending_at IS NULL "
        + ("AND (sender IS NULL OR sender = ?) " if sender is not None else "")
        + "ORDER BY not_before, id LIMIT ?",
        (*params, *([sender] if sender is not None else []), limit),
    )
    return [
        Outgoing(r["id"], chat(r["chat_id"]), r["method"], json.loads(r["payload"]), r["attempts"])
        for r in rows
    ]


async def mark_sent(db: Database, ids: Sequence[int], now: dt.datetime) -> None:
    if ids:
        async with db.transaction() as tx:
            await tx.executemany(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
                [(iso(now), i) for i in ids],
            )


async def mark_sending(db: Database, outbox_id: int, now: dt.datetime) -> None:
    """The call is about to be made: from here a crash leaves it "may have been sent"."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE outbox SET sending_at = ? WHERE id = ?", (iso(now), outbox_id))


async def reserve(db: Database, outbox_id: int, sender: str) -> bool:
    """Instances sharing the database: set this call aside for ``sender`` before it waits
    for its turn under the overall rate, so the others pass it by instead of spending their
    turns on it (one statement; nothing is in flight yet, so an instance that dies holding
    it loses nothing: :func:`give_up_gone` hands it back)."""
    rows = await db.at_once(
        "UPDATE outbox SET sender = ? WHERE id = ? AND (sender IS NULL OR sender = ?) "
        "AND sending_at IS NULL AND sent_at IS NULL AND failed_at IS NULL RETURNING id",
        (sender, outbox_id, sender),
    )
    return bool(rows)


async def release(db: Database, outbox_id: int, sender: str) -> None:
    """Hand back a call reserved and not made (its chat was not ready)."""
    await db.at_once(
        "UPDATE outbox SET sender = NULL WHERE id = ? AND sender = ? AND sending_at IS NULL",
        (outbox_id, sender),
    )


async def claim(
    db: Database, outbox_id: int, chat_id: int | str, sender: str, now: dt.datetime,
    wall: float, gap: float,
) -> bool:  # fmt: skip
    """Instances sharing the database: take this call for ``sender`` (mark it in flight)
    unless another instance took it, or its chat may not take a message before its gap
    since the last one (kept in ``chat_pace``, wall-clock seconds) is over."""
    async with db.transaction() as tx:
        rows = list(
            await tx.execute_fetchall(
                "SELECT ready_at FROM chat_pace WHERE chat_id = ?", (chat_id,)
            )
        )
        if rows and float(rows[0][0]) > wall:
            return False
        cursor = await tx.execute(
            "UPDATE outbox SET sending_at = ?, sender = ? WHERE id = ? AND sending_at IS NULL "
            "AND (sender IS NULL OR sender = ?) AND sent_at IS NULL AND failed_at IS NULL",
            (iso(now), sender, outbox_id, sender),
        )
        if cursor.rowcount != 1:
            return False
        await tx.execute(
            "INSERT INTO chat_pace (chat_id, ready_at) VALUES (?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET ready_at = excluded.ready_at",
            (chat_id, wall + gap),
        )
    return True


async def chat_ready_at(db: Database, chat_id: int | str) -> float:
    """When a chat may take its next message (wall-clock seconds; 0: now)."""
    value = await db.fetchval("SELECT ready_at FROM chat_pace WHERE chat_id = ?", (chat_id,))
    return float(value or 0.0)


async def give_up_gone(db: Database, alive: set[str], now: dt.datetime) -> int:
    """Calls in flight at instances no longer alive (their heartbeat expired): they may
    have reached Telegram and are given up, as after a crash (:func:`give_up_interrupted`);
    a ballot card is sent again, and the calls they had only reserved are handed back.
    Returns how many were given up."""
    marks = ",".join("?" * len(alive)) or "''"
    async with db.transaction() as tx:
        cursor = await tx.execute(
            "UPDATE outbox SET failed_at = ?, error = 'interrupted by a stop: may have been sent' "
            "WHERE sending_at IS NOT NULL AND sent_at IS NULL AND failed_at IS NULL "
            f"AND method != ? AND COALESCE(sender, '') NOT IN ({marks})",
            (iso(now), SEND_CARD, *sorted(alive)),
        )
        await tx.execute(
            "UPDATE outbox SET sending_at = NULL WHERE method = ? AND sending_at IS NOT NULL "
            f"AND sent_at IS NULL AND failed_at IS NULL AND COALESCE(sender, '') NOT IN ({marks})",
            (SEND_CARD, *sorted(alive)),
        )
        await tx.execute(
            "UPDATE outbox SET sender = NULL WHERE sending_at IS NULL AND sent_at IS NULL "
            f"AND failed_at IS NULL AND sender IS NOT NULL AND sender NOT IN ({marks})",
            tuple(sorted(alive)),
        )
        return int(cursor.rowcount or 0)


async def take_slot(db: Database, wall: float, interval: float) -> float:
    """Instances sharing the database: the next start free under the overall rate (every
    instance's sends spaced ``interval`` apart, after any 429's hold; wall-clock seconds),
    taken in one statement that does not wait behind the bot's writes."""
    # the greatest of three: GREATEST on PostgreSQL, MAX with several arguments on SQLite
    greatest = "GREATEST" if db.dialect == "postgresql" else "MAX"
    rows = await db.at_once(
        f"UPDATE send_pace SET next_at = {greatest}(next_at, held_until, ?) + ? RETURNING next_at",
        (wall, interval),
    )
    return float(rows[0][0]) - interval if rows else wall


async def held_until(db: Database) -> float:
    return float(await db.fetchval("SELECT held_until FROM send_pace") or 0.0)


async def hold(db: Database, until: float) -> None:
    """A 429: every instance holds its sends until ``until`` (wall-clock seconds)."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE send_pace SET held_until = ? WHERE held_until < ?", (until, until))


async def give_up_interrupted(db: Database, now: dt.datetime) -> int:
    """At start: calls a crash cut short may have reached Telegram; they are not made again
    (a notification is never sent twice). A ballot card is the exception: without it an
    evaluator cannot vote, so it is sent (a second card only replaces the first). Returns
    how many were given up."""
    async with db.transaction() as tx:
        cursor = await tx.execute(
            "UPDATE outbox SET failed_at = ?, error = 'interrupted by a stop: may have been sent' "
            "WHERE sending_at IS NOT NULL AND sent_at IS NULL AND failed_at IS NULL "
            "AND method != ?",
            (iso(now), SEND_CARD),
        )
        await tx.execute(
            "UPDATE outbox SET sending_at = NULL WHERE method = ? AND sending_at IS NOT NULL "
            "AND sent_at IS NULL AND failed_at IS NULL",
            (SEND_CARD,),
        )
        return int(cursor.rowcount or 0)


async def retry_later(
    db: Database, outbox_id: int, chat_id: int | str, not_before: dt.datetime, error: str
) -> None:
    """Send this one again at ``not_before``, and hold back the chat's later ones with it so
    the chat still reads them in order."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE outbox SET not_before = ?, attempts = attempts + 1, error = ?, "
            "sending_at = NULL, sender = NULL WHERE id = ?",
            (iso(not_before), error, outbox_id),
        )
        await tx.execute(
            "UPDATE outbox SET not_before = ? WHERE chat_id = ? AND id > ? AND not_before < ? "
            "AND sent_at IS NULL AND failed_at IS NULL",
            (iso(not_before), chat_id, outbox_id, iso(not_before)),
        )


async def mark_failed(db: Database, outbox_id: int, now: dt.datetime, error: str) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE outbox SET failed_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
            (iso(now), error, outbox_id),
        )


async def fail_chat(db: Database, chat_id: int | str, now: dt.datetime, error: str) -> int:
    """Give up on every unsent notification to a chat (the user blocked the bot)."""
    async with db.transaction() as tx:
        cursor = await tx.execute(
            "UPDATE outbox SET failed_at = ?, error = ? "
            "WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
            (iso(now), error, chat_id),
        )
        return cursor.rowcount


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sent: int
    failed: int


async def counts(db: Database) -> OutboxCounts:
    row = await db.fetchone(
        "SELECT COUNT(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL), "
        "COUNT(*) FILTER (WHERE sent_at IS NOT NULL), "
        "COUNT(*) FILTER (WHERE failed_at IS NOT NULL) FROM outbox"
    )
    assert row is not None
    return OutboxCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


async def forget_key(tx: Tx, dedupe_key: str, now: dt.datetime) -> None:
    """Free a "once ever" key, so the same call may be queued again (a menu button given
    again after the role was revoked); the row itself stays, renamed."""
    await tx.execute(
        "UPDATE outbox SET dedupe_key = dedupe_key || ? WHERE dedupe_key = ?",
        (f":forgotten:{iso(now)}", dedupe_key),
    )
