"""Durable intake: every update is in the inbox before Telegram is told it was received.

Long polling: a batch from ``getUpdates`` is stored in one transaction together with the
next offset, and only then does the next ``getUpdates`` (carrying that offset) confirm it
to Telegram. At start, what the inbox holds unprocessed is handed to the processor first,
in update order. (Webhook mode stores the update before answering 200, through
:func:`ingest`.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from bot.chat.callbacks import is_card_button
from bot.clock import Clock
from bot.db import Database, inbox
from bot.runtime.health import UPDATES, update_kind
from bot.runtime.pacing import retry_seconds
from bot.runtime.processor import Processor, Work, lane_of

log = logging.getLogger(__name__)


async def ingest(
    db: Database, processor: Processor, batch: Sequence[dict[str, Any]], bot: Bot, clock: Clock
) -> int:
    """Store a batch of updates (as Telegram sent them) and hand the new ones to the
    processor; return how many were new."""
    updates: list[Update] = []
    items = []
    for raw in batch:
        UPDATES.labels(update_kind(raw)).inc()
        trim(raw)
        body = json.dumps(raw, ensure_ascii=False)
        try:
            update = Update.de_json(raw, bot)
        except Exception as exc:  # noqa: BLE001 - whatever PTB cannot read
            # Kept (marked done) so the offset moves past it: one odd update must not
            # stop the intake. Only its id and the kind of trouble are logged.
            log.warning(
                "update %s cannot be read (%s); stored, not processed",
                raw.get("update_id"),
                type(exc).__name__,
            )
            items.append(inbox.Incoming(int(raw["update_id"]), 0, body, unreadable=True))
            continue
        updates.append(update)
        items.append(inbox.Incoming(update.update_id, lane_of(update), body))
    fresh = {i.update_id for i in await inbox.store(db, items, clock.now())}
    for update in updates:
        if update.update_id in fresh:
            processor.submit(Work(update.update_id, lane_of(update), update))
    return len(fresh)


def trim(raw: dict[str, Any]) -> None:
    """Leave out what no handler reads and PTB would parse on every press: the keyboard of
    the message a button was pressed on (a ballot card's is thirty buttons) and its text's
    formatting. Of a ballot
    card's keyboard one button is kept: it tells a card the bot sent but never learned the
    message of (a crash between the two) from any other message (design §6)."""
    query = raw.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        # the formatting of the message's text (a card's is dozens of entities; a third of
        # parsing a press, measured)
        message.pop("entities", None)
        message.pop("caption_entities", None)
        markup = message.pop("reply_markup", None)
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        kept = [
            button
            for row in (rows if isinstance(rows, list) else [])
            for button in (row if isinstance(row, list) else [])
            if isinstance(button, dict) and is_card_button(str(button.get("callback_data", "")))
        ][:1]
        if kept:
            message["reply_markup"] = {"inline_keyboard": [kept]}


async def get_updates(bot: Bot, offset: int, timeout: int) -> list[dict[str, Any]]:
    """getUpdates, keeping Telegram's JSON: it is what the inbox stores, and re-encoding
    PTB's objects cost more than the rest of the intake together."""
    with warnings.catch_warnings():
        # PTB suggests Bot.get_updates, which returns objects only.
        warnings.filterwarnings("ignore", "Please use 'Bot.get_updates'", PTBUserWarning)
        result = await bot.do_api_request(
            "get_updates",
            api_kwargs={
                "offset": offset,
                "timeout": timeout,
                "allowed_updates": list(Update.ALL_TYPES),
            },
            read_timeout=timeout + 10,
        )
    return list(result)


async def replay_pending(db: Database, processor: Processor, bot: Bot) -> int:
    """Hand every stored, unprocessed update to the processor, oldest first."""
    pending = await inbox.pending(db)
    for item in pending:
        update = Update.de_json(json.loads(item.body), bot)
        processor.submit(Work(item.update_id, item.lane, update))
    if pending:
        log.info("replaying %s updates stored before the restart", len(pending))
    return len(pending)


class Poller:
    """Long polling into the inbox."""

    def __init__(
        self, bot: Bot, db: Database, processor: Processor, clock: Clock, timeout: int = 10
    ) -> None:
        self.bot = bot
        self.db = db
        self.processor = processor
        self.clock = clock
        self.timeout = timeout
        self.received = 0

    async def stored_offset(self) -> int:
        """Where polling resumes; while the database is away (a failover), asked again
        each second: polling starts when it answers, and never stops for it."""
        while True:
            try:
                return await inbox.offset(self.db)
            except Exception as exc:  # noqa: BLE001 - the database away: ask again
                log.warning("cannot read the stored offset (%s); again in 1 s",
                            type(exc).__name__)  # fmt: skip
                await asyncio.sleep(1.0)

    async def run(self) -> None:
        offset = await self.stored_offset()
        failures = 0
        while True:
            try:
                updates = await get_updates(self.bot, offset, self.timeout)
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except TimedOut:
                continue
            except InvalidToken:
                log.critical("Telegram rejected the token; polling stops")
                raise
            except Conflict as exc:
                log.error("another instance is polling with this token (%s)", exc.message)
                await asyncio.sleep(5)
                continue
            except NetworkError as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("getUpdates failed (%s); again in %.1fs", exc.message, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if updates:
                try:
                    self.received += await ingest(
                        self.db, self.processor, updates, self.bot, self.clock
                    )
                except Exception as exc:  # noqa: BLE001 - the database away (a failover)
                    # not stored, so not confirmed: the same offset asks Telegram again
                    log.warning("updates could not be stored (%s); asking again in 1 s",
                                type(exc).__name__)  # fmt: skip
                    await asyncio.sleep(1.0)
                    continue
                offset = max(int(u["update_id"]) for u in updates) + 1
