"""Webhook mode: Telegram POSTs each update to us; it is in the inbox before we answer 200.

A request without the secret token set with ``setWebhook`` gets 403 and changes nothing; a
body that is not an update gets 400. If the inbox cannot take the update (the database is
failing) the answer is 500, and Telegram sends it again later. Only a 200 tells Telegram the
update arrived, exactly as only the next ``getUpdates`` offset does in polling mode.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from telegram import Bot

from bot.clock import Clock
from bot.db import Database
from bot.runtime.intake import ingest
from bot.runtime.processor import Processor

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few kilobytes; Telegram's largest well under this


@dataclass(frozen=True)
class WebhookConfig:
    url: str  # the public HTTPS address Telegram posts to (its path is the one served)
    listen: str = "127.0.0.1"
    port: int = 8443
    secret_token: str = ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def valid_secret(token: str) -> bool:
    """Telegram allows 1–256 characters of A–Z, a–z, 0–9, _ and -."""
    return 1 <= len(token) <= 256 and all(c.isascii() and (c.isalnum() or c in "_-") for c in token)


class WebhookServer:
    def __init__(
        self,
        config: WebhookConfig,
        bot: Bot,
        db: Database,
        processor: Processor,
        clock: Clock,
    ) -> None:
        self.config = config
        self.bot = bot
        self.db = db
        self.processor = processor
        self.clock = clock
        self.received = 0
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self.port = config.port

    async def start(
        self,
        more: Callable[[web.Application], None] | None = None,
        middlewares: Sequence[Middleware] = (),
    ) -> None:
        """Listen; ``more`` adds routes served beside the webhook (the console), with the
        ``middlewares`` that guard them (they let every other route pass)."""
        app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
        app.router.add_post(self.config.path, self.receive)
        if more is not None:
            more(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen, self.config.port)
        await site.start()
        addresses = self._runner.addresses  # the port bound (0 asks the system for one)
        if addresses:
            self.port = int(addresses[0][1])
        log.info("webhook listening on %s:%s%s", self.config.listen, self.port, self.config.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.config.secret_token.encode()):
            self.refused += 1
            log.warning("webhook request without the right secret token refused (403)")
            return web.Response(status=403, text="forbidden")
        try:
            body: Any = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            self.received += await ingest(self.db, self.processor, [body], self.bot, self.clock)
        except Exception:
            log.exception(
                "update %s could not be stored; Telegram will send it again", body["update_id"]
            )
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")
