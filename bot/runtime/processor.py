"""The processor: updates of different users at once, one user's strictly in order.

Each update belongs to a lane (the user, or the chat for group messages). A lane runs its
updates one after another; up to ``max_lanes`` lanes run at once. When an update is
finished it is marked done in the inbox (in small batches); an update whose processing hit
a passing network problem or a 429 is tried again, and an update never marked done is
processed again after a restart, so every handler's effects are idempotent by key.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import Update

from bot.clock import Clock
from bot.db import Database, inbox
from bot.runtime.health import PRESS_SECONDS

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """How processing one update went; the error handler fills it in."""

    retry_after: float | None = None
    answered: bool = False  # the update's button press has had its answer (one is allowed)
    beside: list[asyncio.Task[None]] = field(default_factory=list)  # see beside_the_lane


CURRENT_OUTCOME: contextvars.ContextVar[Outcome | None] = contextvars.ContextVar(
    "current_outcome", default=None
)


async def beside_the_lane(call: Coroutine[Any, Any, None]) -> None:
    """Make ``call`` (the pop-up of a press already recorded) beside the update's lane: the
    lane goes on to its next update at once, and this update is marked done when ``call``
    has finished (a crash before then processes it again, and it changes nothing again).
    A failure is only logged: what the press did is stored, and the card shows it. Outside
    the processor, ``call`` is simply awaited."""
    outcome = CURRENT_OUTCOME.get()
    if outcome is None:
        await call
        return
    outcome.beside.append(asyncio.create_task(_logged(call)))


async def _logged(call: Coroutine[Any, Any, None]) -> None:
    try:
        await call
    except Exception as exc:  # noqa: BLE001 - the press is stored; its pop-up is lost
        log.warning("a pop-up could not be shown (%s)", type(exc).__name__)


@dataclass(frozen=True)
class Work:
    update_id: int
    lane: int
    update: Update


def lane_of(update: Update) -> int:
    """The user for private chats and poll answers; the chat for groups and channels."""
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        return chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return chat.id if chat is not None else 0


class LaneLocks(Protocol):
    """Locks on lanes shared by the instances of one database (bot.db.postgres)."""

    async def take(self, key: int) -> bool: ...

    async def give(self, key: int) -> None: ...


class Processor:
    """Runs ``handle`` on every submitted update, in lanes.

    With ``locks`` (several instances share the database, design §13) a lane runs on one
    instance at a time, holding its lock, and takes its updates from the inbox in update
    order, whichever instance stored them; a submitted update only says that its lane has
    work. An instance that finds a lane's lock taken leaves the lane to its holder, which
    looks in the inbox again before and after giving the lock back; :meth:`sweep` picks up
    lanes left behind (an instance that died)."""

    def __init__(
        self,
        handle: Callable[[Update], Awaitable[None]],
        db: Database,
        clock: Clock,
        *,
        max_lanes: int = 32,
        max_attempts: int = 5,
        locks: LaneLocks | None = None,
        decode: Callable[[str], Update] | None = None,
    ) -> None:
        self.handle = handle
        self.db = db
        self.clock = clock
        self.locks = locks
        self.decode = decode
        self.max_attempts = max_attempts
        self._slots = asyncio.Semaphore(max_lanes)
        self._queues: dict[int, deque[Work]] = {}
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._done: list[int] = []
        self._beside: set[asyncio.Future[Any]] = set()  # updates whose pop-ups are in flight
        self._arrived: dict[int, float] = {}  # update: time.monotonic() when submitted
        self.last_handled: float | None = None  # time.monotonic() of the last update done
        self._submitted: set[int] = set()  # queued or running
        self._again: set[int] = set()  # shared lanes with work submitted since their last look
        self._flushing: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self.processed = 0

    def submit(self, work: Work) -> None:
        if self._stopping or work.update_id in self._submitted:
            return  # (an update handed over twice, by its intake and a replay, runs once)
        self._submitted.add(work.update_id)
        self._arrived[work.update_id] = time.monotonic()
        self._again.add(work.lane)  # (shared lanes: look in the inbox again)
        queue = self._queues.setdefault(work.lane, deque())
        queue.append(work)
        self._idle.clear()
        if work.lane not in self._lanes:
            self._lanes[work.lane] = asyncio.create_task(
                self._run_lane(work.lane), name=f"lane-{work.lane}"
            )

    async def _run_lane(self, lane: int) -> None:
        queue = self._queues[lane]
        if self.locks is not None:
            try:
                await self._run_shared_lane(lane)
            finally:
                for work in queue:
                    self._submitted.discard(work.update_id)
                    self._arrived.pop(work.update_id, None)
                queue.clear()
                self._again.discard(lane)
                del self._lanes[lane]
                self._queues.pop(lane, None)
                self._check_idle()
            return
        try:
            while queue and not self._stopping:
                work = queue[0]
                async with self._slots:
                    outcome = await self._process(work)
                queue.popleft()
                self.processed += 1
                if outcome.beside:
                    waiting = asyncio.gather(*outcome.beside)
                    self._beside.add(waiting)
                    waiting.add_done_callback(functools.partial(self._finished, work.update_id))
                else:
                    self._finished(work.update_id)
        finally:
            del self._lanes[lane]
            if not queue:
                self._queues.pop(lane, None)
            self._check_idle()

    async def _run_shared_lane(self, lane: int) -> None:
        assert self.locks is not None and self.decode is not None
        while not self._stopping:
            if not await self.locks.take(lane):
                return  # another instance runs it, and looks in the inbox before it stops
            finished: list[int] = []
            beside: list[asyncio.Task[None]] = []
            pressed: set[int] = set()
            try:
                while not self._stopping:
                    self._again.discard(lane)
                    waiting = await inbox.pending_in(self.db, lane)
                    if not waiting:
                        break
                    for item in waiting:
                        if self._stopping:
                            break
                        work = Work(item.update_id, lane, self.decode(item.body))
                        async with self._slots:
                            popups = (await self._process(work)).beside
                        beside.extend(popups)
                        if popups:
                            pressed.add(work.update_id)
                        finished.append(work.update_id)
                        self.processed += 1
                    # marked done before the next look (and before the lock is given back),
                    # the pop-ups of the batch made meanwhile
                    await asyncio.gather(*beside)
                    beside = []
                    for update_id in finished:
                        self._observe(update_id, update_id in pressed)
                    await inbox.mark_done(self.db, finished, self.clock.now())
                    finished = []
            finally:
                await asyncio.gather(*beside)
                if finished:
                    await inbox.mark_done(self.db, finished, self.clock.now())
                await self.locks.give(lane)
            # submitted here, or stored by another instance, after the last look
            # (looked at after the last await: nothing submitted can slip between)
            left = lane in self._again or bool(await inbox.pending_in(self.db, lane))
            if not left and lane not in self._again:
                return

    def _finished(self, update_id: int, beside: asyncio.Future[Any] | None = None) -> None:
        self._observe(update_id, pressed=beside is not None)
        if beside is not None:
            self._beside.discard(beside)
        self._submitted.discard(update_id)

    def _observe(self, update_id: int, pressed: bool) -> None:
        """An update handled (a press: its pop-up has gone), for /readyz and /metrics."""
        self.last_handled = time.monotonic()
        arrived = self._arrived.pop(update_id, None)
        if pressed and arrived is not None:
            PRESS_SECONDS.observe(self.last_handled - arrived)
        self._done.append(update_id)
        self._flush_soon()

    def sweep_lanes(self, lanes: list[int]) -> None:
        """Run these lanes (their updates wait in the inbox) unless they run here already."""
        for lane in lanes:
            if lane not in self._lanes and not self._stopping:
                self._queues.setdefault(lane, deque())
                self._idle.clear()
                self._lanes[lane] = asyncio.create_task(self._run_lane(lane), name=f"lane-{lane}")

    async def sweep(self, every: float = 2.0, older: float = 2.0) -> None:
        """Keep picking up lanes whose updates have waited ``older`` seconds (those of an
        instance that died, or stored while the lane's holder was giving it back)."""
        while not self._stopping:
            await asyncio.sleep(every)
            moment = self.clock.now() - dt.timedelta(seconds=older)
            try:
                waiting = await inbox.waiting_lanes(self.db, moment)
            except Exception as exc:  # noqa: BLE001 - the database away: look again later
                log.warning("the sweep cannot read the inbox (%s)", type(exc).__name__)
                continue
            self.sweep_lanes(waiting)

    async def _process(self, work: Work) -> Outcome:
        for attempt in range(1, self.max_attempts + 1):
            outcome = Outcome()
            token = CURRENT_OUTCOME.set(outcome)
            try:
                await self.handle(work.update)
            except Exception:
                log.exception("update %s failed outside the handlers", work.update_id)
                outcome.retry_after = 1.0
            finally:
                CURRENT_OUTCOME.reset(token)
            if outcome.retry_after is None:
                return outcome
            if attempt == self.max_attempts:
                log.error("update %s given up after %s attempts", work.update_id, attempt)
                return outcome
            log.info("update %s will be tried again in %.1fs", work.update_id, outcome.retry_after)
            await asyncio.sleep(outcome.retry_after)
        raise AssertionError("unreachable")  # (the last attempt returns)

    def _flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._done:
            batch, self._done = self._done, []
            await inbox.mark_done(self.db, batch, self.clock.now())
        self._check_idle()

    def _check_idle(self) -> None:
        # nothing running, no pop-up in flight and nothing left to mark done (a flush
        # still writing its last batch is awaited by idle())
        if not self._lanes and not self._beside and not self._done:
            self._idle.set()

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every submitted update is processed and marked done."""
        await asyncio.wait_for(self._idle.wait(), timeout)
        if self._flushing is not None:
            await self._flushing

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the updates being processed now; leave the queued ones for a restart."""
        self._stopping = True
        lanes = list(self._lanes.values())
        if lanes:
            await asyncio.wait(lanes, timeout=timeout)
        if self._beside:
            await asyncio.wait(list(self._beside), timeout=timeout)
        if self._flushing is not None:
            await self._flushing
        if self._done:
            await self._flush()
