"""The edits of ballot cards, made by the outbox's loop within its chats' gaps and pace.

An evaluator's card no longer shows what is stored after a press: it is edited as soon as
the chat may take an edit (about one a second), and the edit renders what is stored then,
so the presses in between make one edit, not one each. What is owed lives in memory: a
restart (or the instance that reaps a dead one) edits every live card.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.ballots.cards import Desk
from bot.runtime.calls import call_api
from bot.runtime.pacing import MARGIN, Pacer, retry_seconds

log = logging.getLogger(__name__)


class Host(Protocol):
    """What the edits use of the outbox that holds them: its chats' turns, its pace, its
    loop."""

    bot: ExtBot[Any]
    pacer: Pacer
    per_chat_seconds: float
    chat_ready: dict[int | str, float]
    rate_limited: int

    @property
    def stopping(self) -> bool: ...

    def wake(self) -> None: ...

    def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...


class CardEdits:
    def __init__(self, outbox: Host, overall: bool) -> None:
        self.outbox = outbox
        # whether card edits are paced under the overall rate too (Telegram does not say
        # whether edits count there; True is the safe choice)
        self.overall = overall
        self.cards: Desk | None = None  # set by the composition root
        self._dirty: dict[int, float] = {}  # evaluator -> when their card fell behind
        self._last_change: dict[int, float] = {}  # evaluator -> their card's latest change
        self.editing: set[int] = set()

    @property
    def pending(self) -> bool:
        """Whether an edit is owed or being made."""
        return bool(self._dirty or self.editing)

    def changed(self, user_id: int) -> None:
        now = time.monotonic()
        self._dirty.setdefault(user_id, now)
        self._last_change[user_id] = now
        self.outbox.wake()

    async def every_live(self) -> None:
        """Every card still out with buttons is edited (the edits owed were in a memory
        that is gone: a crash, an instance that stopped)."""
        if self.cards is not None:
            for user_id in await self.cards.live():
                self.changed(user_id)

    async def start(self, busy: set[int | str]) -> bool:
        """Start the edits of the cards that fell behind whose chat may take one: first
        those whose evaluator has been quiet longest (finished, or waiting to see their
        press), last those still pressing, whose next press would make the edit stale.
        Under the overall limit (1,000 cards, 30 edits a second) that is what brings every
        card to its final answers within seconds of its evaluator's last press."""
        outbox = self.outbox
        progressed = False
        quiet = self._last_change
        for user_id, _ in sorted(self._dirty.items(), key=lambda kv: quiet.get(kv[0], kv[1])):
            if outbox.stopping:
                break
            if (
                user_id in busy
                or user_id in self.editing
                or outbox.chat_ready.get(user_id, 0) > time.monotonic()
            ):
                continue
            if self.overall:
                await outbox.pacer.acquire()
            del self._dirty[user_id]
            quiet.pop(user_id, None)
            busy.add(user_id)
            self.editing.add(user_id)
            outbox.chat_ready[user_id] = time.monotonic() + outbox.per_chat_seconds * (
                1.0 + 2 * MARGIN
            )
            outbox.spawn(self.edit(user_id))
            progressed = True
        return progressed

    async def edit(self, user_id: int) -> None:
        assert self.cards is not None
        outbox = self.outbox
        try:
            view = await self.cards.view(user_id)
            if view is None or view.message_id is None:
                return
            kwargs: dict[str, Any] = {
                "chat_id": user_id,
                "message_id": view.message_id,
                "text": view.text,
                "parse_mode": ParseMode.HTML,
            }
            shown = view.reply_markup(self.cards.services)
            if shown is not None:
                kwargs["reply_markup"] = shown
            try:
                await call_api(outbox.bot, "editMessageText", kwargs)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    raise
            if view.final:
                await self.cards.finalised(user_id, view.message_id)
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            outbox.rate_limited += 1
            outbox.pacer.pause(seconds)
            outbox.chat_ready[user_id] = time.monotonic() + seconds
            self._dirty.setdefault(user_id, time.monotonic())
        except Forbidden:
            log.info("a card cannot be edited: its chat is gone")
        except BadRequest as exc:  # the card message is gone: a new one comes with /ballot
            log.info("a card could not be edited: %s", exc.message)
        except NetworkError:
            outbox.chat_ready[user_id] = time.monotonic() + 2.0
            self._dirty.setdefault(user_id, time.monotonic())
        finally:
            self.editing.discard(user_id)
            outbox.wake()
