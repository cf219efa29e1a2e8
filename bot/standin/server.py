"""The stand-in's HTTP face: ``/bot<token>/<method>`` on loopback, as PTB calls Telegram."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from bot.standin.api import Api, ApiError
from bot.standin.world import JSON

log = logging.getLogger(__name__)

# Parameters PTB sends JSON-encoded (objects, arrays, numbers, booleans); every other
# parameter is text and is kept exactly as sent.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "options",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
        "question_entities",
        "explanation_entities",
        "offset",
        "limit",
        "timeout",
        "message_id",
        "show_alert",
        "is_anonymous",
        "allows_multiple_answers",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "cache_time",
        "open_period",
        "max_connections",
    }
)


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value  # an uploaded file
    if key == "chat_id":
        return int(value) if value.lstrip("-").isdigit() else value
    if key in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def read_params(request: web.Request) -> JSON:
    params: JSON = {k: _decode(k, v) for k, v in request.query.items()}
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        params[key] = _decode(key, value)
    return params


class Server:
    """The aiohttp application around an :class:`Api`, with an optional added latency."""

    def __init__(self, api: Api, token: str, latency: float = 0.0) -> None:
        self.api = api
        self.token = token
        self.latency = latency
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self.handle)
        self.app.router.add_get("/file/bot{token}/{folder}/{file_id}", self.download)
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, backlog=1024)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def download(self, request: web.Request) -> web.Response:
        """A file, as Telegram serves it after getFile."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.api.world.file_bytes(request.match_info["file_id"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        try:
            params = await read_params(request)
        except ConnectionResetError:  # the client went away mid-request (a bot stopping)
            return web.Response(status=499)
        except ValueError:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid body"},
                status=400,
            )
        # the latency is the network's, half each way: a call has reached Telegram (and a
        # message its chat) a while before its answer reaches the bot
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        try:
            result = await self.api.call(method, params)
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.code)
        finally:
            if self.latency:
                await asyncio.sleep(self.latency / 2)
        return web.json_response(
            {"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )
