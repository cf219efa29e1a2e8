"""The stand-in's side of webhook mode: while a webhook is set, each update is POSTed to it
as Telegram does (JSON body, ``X-Telegram-Bot-Api-Secret-Token`` header), in order, and
counts as delivered only when the bot answers 2xx; anything else is tried again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

import aiohttp

from bot.standin.world import UPDATES, World

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.2  # Telegram waits longer; tests need not


class WebhookPusher:
    def __init__(self, world: World, trusted: ssl.SSLContext | None = None) -> None:
        self.world = world
        # the certificates it trusts besides the system's (Telegram trusts a self-signed
        # certificate uploaded with setWebhook; the tests' nginx has one)
        self.trusted = trusted
        self.delivered = 0
        self.refused = 0  # answers other than 2xx (each is retried)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="standin-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        world = self.world
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(ssl=self.trusted if self.trusted else True),
        ) as session:
            while True:
                await world.wait(UPDATES, lambda: bool(world.webhook and world.updates), 3600)
                hook = world.webhook
                if not hook or not world.updates:
                    continue
                update = world.updates[0]
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as answer:
                        ok = 200 <= answer.status < 300
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.debug("webhook delivery failed: %s", exc)
                    ok = False
                if ok and world.updates and world.updates[0] is update:
                    world.updates.pop(0)
                    world.delivered_up_to = max(world.delivered_up_to, int(update["update_id"]))
                    self.delivered += 1
                elif not ok:
                    self.refused += 1
                    await asyncio.sleep(RETRY_SECONDS)
