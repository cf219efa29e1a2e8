"""Roles one instance at a time holds among several sharing a database (design §13): the
poller (Telegram allows one ``getUpdates`` consumer), the scheduled work, and each
instance's heartbeat. A lease lasts TTL seconds and is renewed every RENEW seconds; when its
holder dies, another instance takes it at its next try after the expiry, so a takeover
comes within TTL + RENEW seconds (13 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.db import Database
from bot.db import leases as store

log = logging.getLogger(__name__)

TTL = 10.0
RENEW = 3.0
POLLER = "poller"
JOBS = "jobs"
INSTANCE = "instance:"  # + the instance's id: its heartbeat


def instance_id() -> str:
    """This process among the instances: its machine, its process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """Take the lease ``name`` when it is free and keep renewing it while alive.

    ``held`` is true only while the last renewal is younger than the TTL less one renewal's
    time (a holder cut off from the database stops believing it holds the lease before
    another instance may take it)."""

    def __init__(
        self, db: Database, name: str, holder: str, ttl: float = TTL, renew: float = RENEW
    ) -> None:
        self.db = db
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.renew = renew
        self._valid_until = 0.0
        self._changed = asyncio.Event()

    @property
    def held(self) -> bool:
        return time.time() < self._valid_until

    async def try_once(self) -> bool:
        now = time.time()
        try:
            taken = await store.take(self.db, self.name, self.holder, self.ttl, now)
        except Exception as exc:  # noqa: BLE001 - the database away: not held, try again
            log.warning("lease %s: cannot reach the database (%s)", self.name, type(exc).__name__)
            taken = False
        was = self.held
        self._valid_until = now + self.ttl - self.renew if taken else 0.0
        if taken != was:
            log.info(
                "lease %s %s by this instance (%s)",
                self.name,
                "taken" if taken else "lost",
                self.holder,
            )
            self._changed.set()
        return taken

    async def run(self) -> None:
        """Keep trying and renewing until cancelled; then give the lease back."""
        try:
            while True:
                await self.try_once()
                await asyncio.sleep(self.renew)
        finally:
            if self.held:
                self._valid_until = 0.0
                with contextlib.suppress(Exception):
                    await asyncio.shield(store.give_back(self.db, self.name, self.holder))

    async def changed(self, timeout: float) -> None:
        """Wait until the lease is taken or lost, or ``timeout`` passes."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


async def while_held(lease: Lease, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``work`` whenever this instance holds ``lease``; stop it when the lease is lost
    (a standby waits here). An error of ``work`` ends this with that error."""
    while True:
        if not lease.held:
            await lease.changed(1.0)
            continue
        task = asyncio.create_task(work(), name=f"{lease.name}-work")
        try:
            while lease.held and not task.done():
                await asyncio.wait({task}, timeout=0.5)
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if task.done() and not task.cancelled() and task.exception() is None and lease.held:
            return  # the work finished of itself
