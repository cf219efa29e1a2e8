"""The outbox sender: durable notifications, within Telegram's limits.

Changes write their notifications into the ``outbox`` table in the same transaction
(:mod:`bot.chat.notify`). This loop sends them: about 30 a second overall, evenly spaced, one a
second per private chat and twenty a minute per group, one at a time per chat so a chat
reads them in order, each limit kept with a margin (MARGIN). A 429 pauses all sending for
its ``retry_after``; a user who blocked the bot is marked so and not retried; network
trouble is retried with backoff.

At most once: a notification is marked in flight (``sending_at``, committed) before its
call and sent as soon as Telegram accepts it. A call a crash cut short may or may not have
reached Telegram; at the next start such calls are given up, logged with their count, and
never made again, so nobody reads a notification twice. (A call that times out without an
answer is retried, and may in rare cases arrive twice.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.ballots.cards import Desk
from bot.clock import Clock
from bot.db import Database
from bot.db import outbox as store
from bot.db import results as blobs
from bot.db.outbox import Outgoing
from bot.runtime.calls import call_api
from bot.runtime.card_edits import CardEdits
from bot.runtime.coordination import Alone
from bot.runtime.pacing import MARGIN, is_private, retry_seconds

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class Outbox:
    """Sends what the outbox table holds; wake it after queueing something.

    How it shares the queue with other instances is ``sharing``
    (bot/runtime/coordination.py): alone, or together on PostgreSQL (a call reserved, then
    taken just before it is made; the pace, a 429 and a chat's gap shared; the calls in
    flight at an instance that died given up as after a crash)."""

    def __init__(
        self,
        db: Database,
        bot: ExtBot[Any],
        clock: Clock,
        *,
        per_second: float = 30.0,
        per_chat_seconds: float = 1.0,
        per_group_seconds: float = 3.0,
        on_blocked: Callable[[int], Awaitable[None]] | None = None,
        edits_overall: bool = True,
        sharing: Alone | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.sharing = sharing or Alone()
        self.pacer = self.sharing.pacer(db, per_second)
        self._swept = 0.0
        self.per_chat_seconds = per_chat_seconds
        self.per_group_seconds = per_group_seconds
        self.on_blocked = on_blocked
        # whether card edits are paced under the overall rate too (Telegram does not say
        # whether edits count there; True is the safe choice)
        self.edits = CardEdits(self, edits_overall)
        self._wake = asyncio.Event()
        # chat -> when it may take the next call or edit (monotonic seconds)
        self.chat_ready: dict[int | str, float] = {}
        self._in_flight: dict[int, int | str] = {}  # outbox id -> chat id
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.sent = 0
        self.rate_limited = 0

    def wake(self) -> None:
        self._wake.set()

    @property
    def cards(self) -> Desk | None:
        return self.edits.cards

    @cards.setter
    def cards(self, desk: Desk) -> None:
        """The ballot cards' desk (set by the composition root)."""
        self.edits.cards = desk

    def card_changed(self, user_id: int) -> None:
        """The evaluator's card no longer shows what is stored (bot/runtime/card_edits.py)."""
        self.edits.changed(user_id)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run one call or edit beside the loop (stop waits for it)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def prepare(self) -> None:
        """Before the first round: calls a crash cut short, and cards a crash may have left
        behind what is stored."""
        interrupted = await self.sharing.cut_short(self.db, self.clock)
        if interrupted:
            log.warning(
                "%s notifications were being sent when the bot stopped; they may have "
                "reached Telegram and are not sent again",
                interrupted,
            )
        await self.edits.every_live()  # a press may have been recorded, its edit not made

    async def _take_up_gone(self) -> None:
        """What instances that stopped left undone (none, alone): their calls in flight are
        given up (as after a crash); the one instance that reaps a dead one's heartbeat
        edits every live card, since the edits it owed lived in its memory."""
        found = await self.sharing.take_up_gone(self.db, self.clock)
        if found is None:
            return
        if found.calls:
            log.warning(
                "%s notifications were in flight at an instance that stopped; they "
                "may have reached Telegram and are not sent again",
                found.calls,
            )
        if found.reaped:
            log.warning("instance(s) %s stopped without a goodbye; their work is taken up",
                        ", ".join(found.reaped))  # fmt: skip
            await self.edits.every_live()

    async def run(self) -> None:
        while not self._stopping:
            if time.monotonic() - self._swept > 5.0:
                self._swept = time.monotonic()
                try:
                    await self._take_up_gone()
                except Exception as exc:  # noqa: BLE001 - the database away: next time
                    log.warning("cannot look for stopped instances (%s)", type(exc).__name__)
            try:
                progressed = await self._round()
            except InvalidToken:
                log.critical("the outbox stops: Telegram rejected the token")
                return
            except Exception as exc:  # noqa: BLE001 - the database away (a failover): again soon
                log.warning("the outbox cannot read its queue (%s); trying again",
                            type(exc).__name__)  # fmt: skip
                progressed = False
            if not progressed:
                await self._sleep()

    async def _round(self) -> bool:
        now = time.monotonic()
        busy: set[int | str] = set(self._in_flight.values()) | set(self.edits.editing)
        waiting = busy | {c for c, t in self.chat_ready.items() if t > now}
        batch = await store.due(
            self.db,
            self.clock.now(),
            200,
            skip=list(self._in_flight),
            busy=list(waiting),
            sender=self.sharing.instance,
        )
        progressed = False
        for item in batch:
            if self._stopping:
                break
            if item.chat_id in busy or self.chat_ready.get(item.chat_id, 0) > time.monotonic():
                continue
            if not await self.sharing.reserve(self.db, item):
                continue  # another instance has it: no turn of the overall rate spent on it
            busy.add(item.chat_id)
            await self.pacer.acquire()
            self._in_flight[item.id] = item.chat_id
            gap = self.per_chat_seconds if is_private(item.chat_id) else self.per_group_seconds
            self.chat_ready[item.chat_id] = time.monotonic() + gap * (1.0 + 2 * MARGIN)
            self.spawn(self._send(item))
            progressed = True
        return await self.edits.start(busy) or progressed

    async def _sleep(self) -> None:
        waits = [t - time.monotonic() for t in self.chat_ready.values() if t > time.monotonic()]
        timeout = min([1.0, *waits]) if waits else 1.0
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(timeout, 0.01))
        if len(self.chat_ready) > 10000:  # forget chats that are long ready
            now = time.monotonic()
            self.chat_ready = {c: t for c, t in self.chat_ready.items() if t > now}

    async def _send(self, item: Outgoing) -> None:
        gap = self.per_chat_seconds if is_private(item.chat_id) else self.per_group_seconds
        wait = await self.sharing.take(self.db, item, self.clock, gap * (1.0 + 2 * MARGIN))
        if wait is not None:  # another instance sends to this chat: look again then
            self.chat_ready[item.chat_id] = time.monotonic() + wait
            self._in_flight.pop(item.id, None)
            self.wake()
            return
        try:
            payload = dict(item.payload)
            method = item.method
            card = None
            if method == store.SEND_CARD:  # rendered now, from the ballots: never stored
                card = await self.cards.view(int(item.chat_id)) if self.cards else None
                if card is None or card.message_id is not None:  # (/ballot sent one already)
                    await store.mark_sent(self.db, [item.id], self.clock.now())
                    return
                method, payload = "sendMessage", {"chat_id": item.chat_id, "text": card.text}
                shown = card.reply_markup(self.cards.services) if self.cards else None
                if shown is not None:
                    payload["reply_markup"] = shown
            if "photo_blob" in payload:  # a chart: the bytes are kept beside the outbox
                payload["photo"] = await blobs.get_blob(self.db, int(payload.pop("photo_blob")))
            await self.sharing.calling(self.db, item, self.clock)
            result = await call_api(self.bot, method, payload)
            if card is not None and self.cards is not None:
                await self.cards.sent(int(item.chat_id), int(result["message_id"]))
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            self.rate_limited += 1
            self.pacer.pause(seconds)
            log.warning("Telegram asks to wait %.0fs; the outbox pauses", seconds)
            await self._later(item, seconds, "429")
        except Forbidden as exc:
            log.info(
                "chat %s cannot be written to (%s); its notifications are dropped",
                item.chat_id,
                exc.message,
            )
            await store.fail_chat(self.db, item.chat_id, self.clock.now(), exc.message)
            if self.on_blocked is not None and isinstance(item.chat_id, int):
                await self.on_blocked(item.chat_id)
        except BadRequest as exc:
            # A recipient who never opened the bot has no chat yet: worth a warning, not a
            # bug. Anything else refused (entities, lengths) is a bug of ours.
            unreachable = "chat not found" in exc.message.lower()
            log.log(
                logging.WARNING if unreachable else logging.ERROR,
                "notification %s refused by Telegram: %s",
                item.id,
                exc.message,
            )
            await store.mark_failed(self.db, item.id, self.clock.now(), exc.message)
        except NetworkError as exc:
            if item.attempts + 1 >= MAX_ATTEMPTS:
                log.error(
                    "notification %s given up after %s attempts: %s",
                    item.id,
                    item.attempts + 1,
                    exc.message,
                )
                await store.mark_failed(self.db, item.id, self.clock.now(), exc.message)
            else:
                await self._later(item, min(300.0, 2.0**item.attempts), exc.message)
        else:
            await store.mark_sent(self.db, [item.id], self.clock.now())
            self.sent += 1
        finally:
            self._in_flight.pop(item.id, None)
            self.wake()

    async def _later(self, item: Outgoing, seconds: float, error: str) -> None:
        self.chat_ready[item.chat_id] = time.monotonic() + seconds
        await store.retry_later(
            self.db,
            item.id,
            item.chat_id,
            self.clock.now() + dt.timedelta(seconds=seconds),
            error,
        )

    async def stop(self) -> None:
        """Stop taking new work and let the sends in flight finish."""
        self._stopping = True
        self.wake()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    async def drained(self, timeout: float = 30.0) -> None:
        """Wait until nothing is left to send: nothing due, nothing in flight, and nothing
        held back by a pause (a 429's retry_after, network trouble). For tests and the
        demo, which read what people received only once all of it went out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = await store.counts(self.db)
            if not self._in_flight and counts.pending == 0 and not self.edits.pending:
                return
            self.wake()
            await asyncio.sleep(0.02)
        raise TimeoutError("the outbox did not drain")
