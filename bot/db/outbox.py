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
) -> list[Outgoing]:
    """The oldest notification due by ``now`` of each chat, leaving out the ids in ``skip``
    and the chats in ``busy`` (a chat reads its notifications in order, one at a time, so
    only its oldest can go next)."""
    where = "sent_at IS NULL AND failed_at IS NULL AND not_before <= ?"
    params: list[Any] = [iso(now)]
    if skip:
        where += f" AND id NOT IN ({','.join('?' * len(skip))})"
        params += skip
    if busy:
        where += f" AND chat_id NOT IN ({','.join('?' * len(busy))})"
        params += busy
    rows = await db.fetchall(
        "SELECT id, chat_id, method, payload, attempts FROM outbox WHERE id IN "
        f"(SELECT MIN(id) FROM outbox WHERE {where} GROUP BY chat_id) "
        "ORDER BY not_before, id LIMIT ?",
        (*params, limit),
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
            "sending_at = NULL WHERE id = ?",
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
