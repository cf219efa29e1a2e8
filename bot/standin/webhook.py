"""The stand-in's side of webhook mode: while a webhook is set, each update is POSTed to it
as Telegram does (JSON body, ``X-Telegram-Bot-Api-Secret-Token`` header), and counts as
delivered only when the bot answers 2xx; anything else is tried again.

Up to ``max_connections`` updates are in flight at once (setWebhook's, 1-100, Telegram's
default 40), as Telegram delivers to raise a bot's throughput; the updates of one chat go
one at a time and in order (the next only once the bot took the one before)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import Any

import aiohttp

from bot.standin.world import JSON, UPDATES, World

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.2  # Telegram waits longer; tests need not
MAX_CONNECTIONS = 40  # setWebhook's default


def chat_of(update: JSON) -> Any:
    """What an update's order is kept within: its chat (or the user, for a button pressed
    on an inline message)."""
    for value in update.values():
        if isinstance(value, dict):
            message = value.get("message")
            chat = (message if isinstance(message, dict) else value).get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return chat["id"]
            sender = value.get("from")
            if isinstance(sender, dict) and "id" in sender:
                return sender["id"]
    return None


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

    def _next(self, flying: dict[int, Any]) -> list[JSON]:
        """The updates to send now: the first waiting one of each chat with none in flight,
        in update order, as many as free connections allow."""
        limit = int((self.world.webhook or {}).get("max_connections") or MAX_CONNECTIONS)
        busy = set(flying.values())
        chosen: list[JSON] = []
        for update in self.world.updates:
            if len(flying) + len(chosen) >= limit:
                break
            chat = chat_of(update)
            if chat in busy:
                continue
            busy.add(chat)  # (the chat's later updates wait for this one)
            if update["update_id"] not in flying:
                chosen.append(update)
        return chosen

    async def _run(self) -> None:
        world = self.world
        flying: dict[int, Any] = {}  # update id -> its chat
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(ssl=self.trusted if self.trusted else True, limit=100),
        ) as session:

            async def deliver(update: JSON, hook: JSON) -> None:
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as answer:
                        ok = 200 <= answer.status < 300
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.debug("webhook delivery failed: %s", exc)
                    ok = False
                try:
                    if ok:
                        with contextlib.suppress(ValueError):
                            world.updates.remove(update)
                        world.delivered_up_to = max(world.delivered_up_to, int(update["update_id"]))
                        self.delivered += 1
                    else:
                        self.refused += 1
                        await asyncio.sleep(RETRY_SECONDS)
                finally:
                    del flying[update["update_id"]]
                    world.pulse(UPDATES)

            tasks: set[asyncio.Task[None]] = set()
            chosen: list[JSON] = []

            def ready() -> bool:
                chosen[:] = self._next(flying) if world.webhook else []
                return bool(chosen)

            try:
                while True:
                    await world.wait(UPDATES, ready, 3600)
                    hook = world.webhook
                    if hook is None:
                        continue
                    for update in chosen:
                        flying[update["update_id"]] = chat_of(update)
                        task = asyncio.create_task(deliver(update, hook))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            finally:
                for task in tasks:
                    task.cancel()
