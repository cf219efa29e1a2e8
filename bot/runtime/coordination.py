"""Alone or together: how this instance shares its database, chosen once at start
(design §13). Every difference between one instance and several is here.

:class:`Alone` (SQLite: one process owns the file) runs every lane, polls, runs the
scheduled work, and at start gives up the calls a crash cut short.

:class:`Together` (PostgreSQL: other instances may share the database) runs a lane under
its advisory lock and sweeps up lanes a dead instance left; polls only while it holds the
poller's lease (a standby otherwise) and replays what the last poller stored; runs the
scheduled work only while it holds the jobs' lease; beats its heartbeat; reserves an
outbox call before waiting for its turn and takes it just before the call (a chat's gap
kept in the database); and gives up the calls in flight at instances whose heartbeat
expired, editing every live card when it is the one that reaps a dead instance.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update

from bot.clock import Clock
from bot.db import Database
from bot.db import leases as lease_store
from bot.db import outbox as outbox_store
from bot.db.outbox import Outgoing
from bot.db.postgres import SessionLocks
from bot.runtime.intake import replay_pending
from bot.runtime.leases import INSTANCE, JOBS, POLLER, Lease, while_held
from bot.runtime.pacing import Pacer, SharedPacer
from bot.runtime.processor import Processor

log = logging.getLogger(__name__)

Handle = Callable[[Any], Awaitable[None]]  # PTB's Application.process_update


@dataclass(frozen=True)
class TakenUp:
    """What instances that stopped left: calls given up, and whether this instance reaped
    one (then it edits every live card: the edits it owed lived in its memory)."""

    calls: int
    reaped: tuple[str, ...]


class Alone:
    """The only instance on its database."""

    instance: str | None = None

    # -- the processor and the background work --------------------------------------------

    def processor(
        self, handle: Handle, db: Database, clock: Clock, lanes: int, bot: Bot
    ) -> Processor:
        return Processor(handle, db, clock, max_lanes=lanes)

    async def start(self, db: Database, processor: Processor) -> list[asyncio.Task[None]]:
        return []

    async def polling(
        self, db: Database, poll: Callable[[], Coroutine[Any, Any, None]]
    ) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(poll(), name="poller")]

    async def taking_over(self, db: Database, processor: Processor, bot: Bot) -> None:
        """When polling starts (alone: the start replayed the inbox already)."""

    async def jobs(self, db: Database) -> tuple[Lease | None, list[asyncio.Task[None]]]:
        return None, []

    async def close(self) -> None:
        return None

    # -- the outbox -------------------------------------------------------------------------

    def pacer(self, db: Database, per_second: float) -> Pacer:
        return Pacer(per_second)

    async def cut_short(self, db: Database, clock: Clock) -> int:
        """At start: the calls a crash cut short (given up: they may have been sent)."""
        return await outbox_store.give_up_interrupted(db, clock.now())

    async def take_up_gone(self, db: Database, clock: Clock) -> TakenUp | None:
        return None  # nobody else to have stopped

    async def reserve(self, db: Database, item: Outgoing) -> bool:
        return True

    async def take(self, db: Database, item: Outgoing, clock: Clock, gap: float) -> float | None:
        """Take the call before it is made: None when taken, else the seconds until its
        chat may take one."""
        return None

    async def calling(self, db: Database, item: Outgoing, clock: Clock) -> None:
        """Just before the call: from here a crash leaves it "may have been sent"."""
        await outbox_store.mark_sending(db, item.id, clock.now())


class Together(Alone):
    """One of several instances that may share a PostgreSQL database."""

    def __init__(self, instance: str, url: str) -> None:
        self.instance = self.me = instance
        self.url = url
        self.lane_locks: SessionLocks | None = None

    def processor(
        self, handle: Handle, db: Database, clock: Clock, lanes: int, bot: Bot
    ) -> Processor:
        self.lane_locks = SessionLocks(self.url)  # a lane runs on one instance at a time
        return Processor(
            handle,
            db,
            clock,
            max_lanes=lanes,
            locks=self.lane_locks,
            decode=lambda body: Update.de_json(json.loads(body), bot),
        )

    async def start(self, db: Database, processor: Processor) -> list[asyncio.Task[None]]:
        """The sweeper of lanes a dead instance left, and this instance's heartbeat (its
        calls in flight are its own while it beats)."""
        beat = Lease(db, INSTANCE + self.me, self.me)
        await beat.try_once()
        return [
            asyncio.create_task(processor.sweep(), name="sweeper"),
            asyncio.create_task(beat.run(), name="heartbeat"),
        ]

    async def polling(
        self, db: Database, poll: Callable[[], Coroutine[Any, Any, None]]
    ) -> list[asyncio.Task[None]]:
        """One instance polls (Telegram allows one getUpdates), the others stand by."""
        lease = Lease(db, POLLER, self.me)
        if not await lease.try_once():
            log.info("standby: another instance polls; this one takes over if it stops")
        return [
            asyncio.create_task(lease.run(), name="poller-lease"),
            asyncio.create_task(while_held(lease, poll), name="poller"),
        ]

    async def taking_over(self, db: Database, processor: Processor, bot: Bot) -> None:
        """What the last poller stored and did not process."""
        await replay_pending(db, processor, bot)

    async def jobs(self, db: Database) -> tuple[Lease | None, list[asyncio.Task[None]]]:
        """The scheduled work runs on the instance holding this lease."""
        lease = Lease(db, JOBS, self.me)
        await lease.try_once()
        return lease, [asyncio.create_task(lease.run(), name="jobs-lease")]

    async def close(self) -> None:
        if self.lane_locks is not None:
            await self.lane_locks.close()
            self.lane_locks = None

    def pacer(self, db: Database, per_second: float) -> Pacer:
        return SharedPacer(db, per_second)

    async def cut_short(self, db: Database, clock: Clock) -> int:
        """The calls in flight at instances whose heartbeat expired (this one's included:
        it is starting)."""
        alive = await lease_store.holders(db, INSTANCE, time.time())
        return await outbox_store.give_up_gone(db, alive | {self.me}, clock.now())

    async def take_up_gone(self, db: Database, clock: Clock) -> TakenUp | None:
        reaped = await lease_store.reap(db, INSTANCE, time.time())
        return TakenUp(await self.cut_short(db, clock), tuple(sorted(reaped)))

    async def reserve(self, db: Database, item: Outgoing) -> bool:
        """Set the call aside for this instance before it waits for its turn under the
        overall rate: the others pass it by instead of spending a turn on it."""
        return await outbox_store.reserve(db, item.id, self.me)

    async def take(self, db: Database, item: Outgoing, clock: Clock, gap: float) -> float | None:
        """Take the call (in flight) if its chat's gap, kept in the database for every
        instance, has passed; else hand the reservation back."""
        wall = time.time()
        if await outbox_store.claim(db, item.id, item.chat_id, self.me, clock.now(), wall, gap):
            return None
        await outbox_store.release(db, item.id, self.me)
        ready = await outbox_store.chat_ready_at(db, item.chat_id)
        return max(0.05, ready - wall)

    async def calling(self, db: Database, item: Outgoing, clock: Clock) -> None:
        return None  # (marked in flight when taken)


def coordination(db: Database, instance: str) -> Alone:
    """Together on PostgreSQL (other instances may share it), alone on SQLite."""
    url = getattr(db, "url", None)
    if db.dialect == "postgresql" and isinstance(url, str):
        return Together(instance, url)
    return Alone()
