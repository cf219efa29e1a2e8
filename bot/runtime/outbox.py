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
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.ballots.cards import Desk
from bot.clock import Clock
from bot.db import Database
from bot.db import leases as lease_store
from bot.db import outbox as store
from bot.db import results as blobs
from bot.db.outbox import Outgoing
from bot.runtime.calls import call_api
from bot.runtime.leases import INSTANCE
from bot.runtime.pacing import MARGIN, Pacer, SharedPacer, is_private, retry_seconds

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class Outbox:
    """Sends what the outbox table holds; wake it after queueing something.

    With ``instance`` (several instances share the database, design §13) a call is
    reserved by one instance before it waits for its turn (``outbox.sender``: the others pass
    it by) and taken (in flight) just before it is made, a chat's gap between messages is
    kept in the database for all of them, and the overall rate and 429s are shared
    (:class:`SharedPacer`); the calls in flight at an instance that died are given up as
    after a crash."""

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
        instance: str | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.instance = instance
        self.pacer = SharedPacer(db, per_second) if instance else Pacer(per_second)
        self._swept = 0.0
        self.per_chat_seconds = per_chat_seconds
        self.per_group_seconds = per_group_seconds
        self.on_blocked = on_blocked
        # whether card edits are paced under the overall rate too (Telegram does not say
        # whether edits count there; True is the safe choice)
        self.edits_overall = edits_overall
        self.cards: Desk | None = None  # set by the composition root
        self._dirty: dict[int, float] = {}  # evaluator -> when their card fell behind
        self._last_change: dict[int, float] = {}  # evaluator -> their card's latest change
        self._editing: set[int] = set()
        self._wake = asyncio.Event()
        self._chat_ready: dict[int | str, float] = {}
        self._in_flight: dict[int, int | str] = {}  # outbox id -> chat id
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.sent = 0
        self.rate_limited = 0

    def wake(self) -> None:
        self._wake.set()

    def card_changed(self, user_id: int) -> None:
        """The evaluator's card no longer shows what is stored: it is edited as soon as
        the chat may take an edit (about one a second), and the edit renders what is
        stored then, so presses in between make one edit, not one each."""
        now = time.monotonic()
        self._dirty.setdefault(user_id, now)
        self._last_change[user_id] = now
        self.wake()

    async def prepare(self) -> None:
        """Before the first round: calls a crash cut short, and cards a crash may have left
        behind what is stored."""
        if self.instance is not None:
            interrupted = await self._give_up_gone()
        else:
            interrupted = await store.give_up_interrupted(self.db, self.clock.now())
        if interrupted:
            log.warning(
                "%s notifications were being sent when the bot stopped; they may have "
                "reached Telegram and are not sent again",
                interrupted,
            )
        if self.cards is not None:  # a press may have been recorded, its edit not made
            for user_id in await self.cards.live():
                self.card_changed(user_id)

    async def _give_up_gone(self) -> int:
        """The calls in flight at instances whose heartbeat expired (design §13)."""
        alive = await lease_store.holders(self.db, INSTANCE, time.time())
        return await store.give_up_gone(self.db, alive | {self.instance or ""}, self.clock.now())

    async def _take_up_gone(self) -> None:
        """Shared: what instances that died left undone. Their calls in flight are given up
        (as after a crash); the one instance that reaps a dead one's heartbeat edits every
        live card, since the edits it owed lived in its memory."""
        reaped = await lease_store.reap(self.db, INSTANCE, time.time())
        gone = await self._give_up_gone()
        if gone:
            log.warning("%s notifications were in flight at an instance that stopped; they "
                        "may have reached Telegram and are not sent again", gone)  # fmt: skip
        if reaped:
            log.warning("instance(s) %s stopped without a goodbye; their work is taken up",
                        ", ".join(sorted(reaped)))  # fmt: skip
            if self.cards is not None:
                for user_id in await self.cards.live():
                    self.card_changed(user_id)

    async def run(self) -> None:
        while not self._stopping:
            if self.instance is not None and time.monotonic() - self._swept > 5.0:
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
        busy: set[int | str] = set(self._in_flight.values()) | set(self._editing)
        waiting = busy | {c for c, t in self._chat_ready.items() if t > now}
        batch = await store.due(
            self.db,
            self.clock.now(),
            200,
            skip=list(self._in_flight),
            busy=list(waiting),
            sender=self.instance,
        )
        progressed = False
        for item in batch:
            if self._stopping:
                break
            if item.chat_id in busy or self._chat_ready.get(item.chat_id, 0) > time.monotonic():
                continue
            if self.instance is not None and not await store.reserve(
                self.db, item.id, self.instance
            ):
                continue  # another instance has it: no turn of the overall rate spent on it
            busy.add(item.chat_id)
            await self.pacer.acquire()
            self._in_flight[item.id] = item.chat_id
            gap = self.per_chat_seconds if is_private(item.chat_id) else self.per_group_seconds
            self._chat_ready[item.chat_id] = time.monotonic() + gap * (1.0 + 2 * MARGIN)
            task = asyncio.create_task(self._send(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            progressed = True
        return await self._edit_cards(busy) or progressed

    async def _edit_cards(self, busy: set[int | str]) -> bool:
        """Start the edits of the cards that fell behind whose chat may take one: first
        those whose evaluator has been quiet longest (finished, or waiting to see their
        press), last those still pressing, whose next press would make the edit stale.
        Under the overall limit (1,000 cards, 30 edits a second) that is what brings every
        card to its final answers within seconds of its evaluator's last press."""
        progressed = False
        quiet = self._last_change
        for user_id, _ in sorted(self._dirty.items(), key=lambda kv: quiet.get(kv[0], kv[1])):
            if self._stopping:
                break
            if (
                user_id in busy
                or user_id in self._editing
                or self._chat_ready.get(user_id, 0) > time.monotonic()
            ):
                continue
            if self.edits_overall:
                await self.pacer.acquire()
            del self._dirty[user_id]
            quiet.pop(user_id, None)
            busy.add(user_id)
            self._editing.add(user_id)
            self._chat_ready[user_id] = time.monotonic() + self.per_chat_seconds * (
                1.0 + 2 * MARGIN
            )
            task = asyncio.create_task(self._edit_card(user_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            progressed = True
        return progressed

    async def _edit_card(self, user_id: int) -> None:
        assert self.cards is not None
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
                await call_api(self.bot, "editMessageText", kwargs)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    raise
            if view.final:
                await self.cards.finalised(user_id, view.message_id)
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            self.rate_limited += 1
            self.pacer.pause(seconds)
            self._chat_ready[user_id] = time.monotonic() + seconds
            self._dirty.setdefault(user_id, time.monotonic())
        except Forbidden:
            log.info("a card cannot be edited: its chat is gone")
        except BadRequest as exc:  # the card message is gone: a new one comes with /ballot
            log.info("a card could not be edited: %s", exc.message)
        except NetworkError:
            self._chat_ready[user_id] = time.monotonic() + 2.0
            self._dirty.setdefault(user_id, time.monotonic())
        finally:
            self._editing.discard(user_id)
            self.wake()

    async def _sleep(self) -> None:
        waits = [t - time.monotonic() for t in self._chat_ready.values() if t > time.monotonic()]
        timeout = min([1.0, *waits]) if waits else 1.0
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(timeout, 0.01))
        if len(self._chat_ready) > 10000:  # forget chats that are long ready
            now = time.monotonic()
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}

    async def _claim(self, item: Outgoing) -> bool:
        """Shared: take the call before making it (False: not now, or not this one's)."""
        assert self.instance is not None
        gap = self.per_chat_seconds if is_private(item.chat_id) else self.per_group_seconds
        wall = time.time()
        taken = await store.claim(
            self.db, item.id, item.chat_id, self.instance, self.clock.now(), wall,
            gap * (1.0 + 2 * MARGIN),
        )  # fmt: skip
        if not taken:  # another instance sends to this chat: look again when it may take one
            await store.release(self.db, item.id, self.instance)
            ready = await store.chat_ready_at(self.db, item.chat_id)
            self._chat_ready[item.chat_id] = time.monotonic() + max(0.05, ready - wall)
        return taken

    async def _send(self, item: Outgoing) -> None:
        if self.instance is not None and not await self._claim(item):
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
            if self.instance is None:  # (shared: marked when taken)
                await store.mark_sending(self.db, item.id, self.clock.now())
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
        self._chat_ready[item.chat_id] = time.monotonic() + seconds
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
            if (
                not self._in_flight
                and counts.pending == 0
                and not self._dirty
                and not self._editing
            ):
                return
            self.wake()
            await asyncio.sleep(0.02)
        raise TimeoutError("the outbox did not drain")
