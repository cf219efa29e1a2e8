"""A stand-in for the Telegram Bot API on loopback, for tests, benchmarks and the demo.

It speaks the Bot API over real HTTP as PTB 22.8 expects (form-encoded and multipart
requests, ``getUpdates`` long polling with offsets, the Bot API 10.0 fields PTB requires),
rejects what Telegram rejects (unparsable HTML, messages over 4096 characters,
``callback_data`` over 64 bytes, unknown chats, blocked users), answers 429 with
``retry_after`` above the limits it is given, and can add a latency to every call.

Simulated users (:class:`SimUser`) send messages, press buttons, answer polls and read what
the bot sent them::

    async with StandIn() as standin:
        alice = standin.user(1001, "Alice")
        await alice.send("/start")
        print(await alice.reply())
"""

from __future__ import annotations

import ssl
import time
from types import TracebackType

from bot.standin.api import Api, ApiError
from bot.standin.html import EntityError
from bot.standin.server import Server
from bot.standin.users import BotMessage, NoReply, SimGroup, SimUser, Tap
from bot.standin.webhook import WebhookPusher
from bot.standin.world import CallbackAnswer, FloodLimits, World

DEFAULT_TOKEN = "7000000001:STAND-IN-token-not-secret"


class StandIn:
    """The whole stand-in: a world, its API and an HTTP server on loopback."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        latency: float = 0.0,
        limits: FloodLimits | None = None,
        webhook_trusts: ssl.SSLContext | None = None,
    ) -> None:
        self.token = token
        self.world = World(bot_id=int(token.split(":", 1)[0]))
        self.api = Api(self.world, limits)
        self.server = Server(self.api, token, latency)
        self.webhook = WebhookPusher(self.world, webhook_trusts)
        self._users: dict[int, SimUser] = {}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> StandIn:
        await self.server.start(host, port)
        self.webhook.start()
        return self

    async def stop(self) -> None:
        await self.webhook.stop()
        await self.server.stop()

    async def __aenter__(self) -> StandIn:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What ``TELEGRAM_API_BASE_URL`` should be; PTB appends the token."""
        return f"http://127.0.0.1:{self.server.port}/bot"

    @property
    def latency(self) -> float:
        return self.server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.server.latency = seconds

    @property
    def limits(self) -> FloodLimits:
        return self.api.limits

    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str = "",
        username: str = "",
        lang: str = "zh-hans",
    ) -> SimUser:
        if user_id not in self._users:
            self._users[user_id] = SimUser(self, user_id, first_name, last_name, username, lang)
        return self._users[user_id]

    def group(self, chat_id: int, title: str) -> SimGroup:
        return SimGroup(self, chat_id, title)

    def channel(self, chat_id: int, title: str, username: str) -> SimGroup:
        """A channel the bot may post in, addressed as ``@username`` or by id."""
        channel = SimGroup(self, chat_id, title)
        self.world.chats[chat_id] = {
            "id": chat_id,
            "type": "channel",
            "title": title,
            "username": username,
        }
        return channel

    def flood(self, seconds: float, chats: list[int] | None = None) -> None:
        """Answer every send (to ``chats`` only, if given) with 429 for ``seconds``."""
        until = time.monotonic() + seconds
        if chats is None:
            self.api.limits.flood_until = until
        else:
            for chat_id in chats:
                self.api.limits.flood_chats[chat_id] = until

    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by the bot's offset."""
        return len(self.world.updates)


__all__ = [
    "DEFAULT_TOKEN",
    "Api",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "EntityError",
    "FloodLimits",
    "NoReply",
    "SimGroup",
    "SimUser",
    "StandIn",
    "Tap",
    "World",
]
