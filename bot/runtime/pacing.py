"""Telegram's limits on sending, kept by every sender (design §10): the pace of the
outbox (:class:`Pacer`; :class:`SharedPacer` for instances sharing the database), the kind
of a chat, and the seconds a 429 asks to wait."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from typing import Any

from telegram.error import RetryAfter

from bot.db import Database
from bot.db import outbox as store


def retry_seconds(error: RetryAfter) -> float:
    """PTB 22 gives retry_after as seconds or (opted in) a timedelta."""
    value: Any = error.retry_after
    return float(value.total_seconds()) if isinstance(value, dt.timedelta) else float(value)


def is_private(chat_id: int | str) -> bool:
    """A person's chat (as opposed to a group or a channel, "@name" or negative)."""
    return isinstance(chat_id, int) and chat_id > 0


MARGIN = 0.05  # every limit the outbox knows is kept with this much to spare (5%)


class Pacer:
    """Spaces sends evenly at ``rate`` a second (less MARGIN) and holds them all during a
    pause.

    Telegram counts the calls that arrive in any one second; calls leave evenly spaced but
    may arrive bunched (a slow one, then a quick one). So besides the spacing, no call
    starts until the one ``rate`` calls back started more than a second (and MARGIN) ago.
    """

    def __init__(self, rate: float) -> None:
        self.interval = (1.0 + MARGIN) / rate
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.window: deque[float] = deque(maxlen=max(1, int(rate)))

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            start = max(self.next_slot, self.paused_until, now)
            if len(self.window) == self.window.maxlen:
                start = max(start, self.window[0] + 1.0 + MARGIN)
            if start <= now:
                self.next_slot = now + self.interval
                self.window.append(now)
                return
            await asyncio.sleep(start - now)


class SharedPacer(Pacer):
    """The pace every instance sharing the database keeps together (design §13): each send
    takes the next free slot of the overall rate from the database, and a 429 seen by one
    instance holds them all until its ``retry_after`` (``send_pace``, wall-clock seconds).

    The slot is taken first, then this instance's own pace is kept (:class:`Pacer`: the
    spacing and the window of the last second, so a send that woke late for its slot on a
    busy machine cannot start bunched with the next), and last, just before the call, the
    shared hold is looked at again."""

    def __init__(self, db: Database, rate: float) -> None:
        super().__init__(rate)
        self.db = db
        self._holds: set[asyncio.Task[None]] = set()

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        task = asyncio.create_task(store.hold(self.db, time.time() + seconds))
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    async def acquire(self) -> None:
        while True:
            start = await store.take_slot(self.db, time.time(), self.interval)
            if start > time.time():
                await asyncio.sleep(start - time.time())
            await super().acquire()
            held = await store.held_until(self.db)  # a 429 elsewhere, while this one waited
            if held <= time.time():
                return
            await asyncio.sleep(held - time.time())
