"""PTB's HTTP requests over aiohttp's client instead of httpx.

With many users served at once the bot keeps dozens of connections open, and httpcore
(under httpx) checks every pooled connection for expiry on every request: measured, HTTP
bookkeeping took over half of the bot's CPU under load. aiohttp's connector does not, and
it is already a dependency (the stand-in and the webhook listener use its server).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.runtime.health import FLOODS

DEFAULT = BaseRequest.DEFAULT_NONE
# Methods a flood answer (429) holds back: whatever sends or changes messages. getUpdates
# and answering button presses go on, so updates keep arriving and being stored.
HELD = ("send", "edit", "copy", "forward", "delete", "stop")
JSON_HEADERS = {"Content-Type": "application/json"}


def _value(given: Any, default: float | None) -> float | None:
    return default if isinstance(given, DefaultValue) else given


class AiohttpRequest(BaseRequest):
    """A :class:`telegram.request.BaseRequest` on an :class:`aiohttp.ClientSession`."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
        fresh_connections: bool = False,
    ) -> None:
        self._pool_size = connection_pool_size
        self._proxy = proxy  # an HTTP(S) proxy for every call (EVALBOT_PROXY)
        # a connection a call (a plain-HTTP Bot API through a proxy that closes after each
        # answer, as tinyproxy does; through HTTPS the proxy's tunnel is kept)
        self._fresh = fresh_connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._hold_until = 0.0  # monotonic time before which no HELD call is made
        self.held = 0  # calls that waited for a flood answer's retry_after

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._pool_size, limit_per_host=0, force_close=self._fresh
                ),
                headers={"User-Agent": self.USER_AGENT},
                proxy=self._proxy,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = DEFAULT,
        write_timeout: Any = DEFAULT,
        connect_timeout: Any = DEFAULT,
        pool_timeout: Any = DEFAULT,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = _value(read_timeout, self._read_timeout)
        connect = _value(connect_timeout, self._connect_timeout)
        pool = _value(pool_timeout, self._pool_timeout)
        # aiohttp's "connect" covers waiting for a free pooled connection and connecting.
        waiting = None if connect is None and pool is None else (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=waiting, sock_connect=connect, sock_read=read
        )
        headers = None
        if files and request_data is not None:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data: Any = form
        else:
            # a JSON body, as the Bot API accepts: one json.dumps instead of encoding each
            # parameter to JSON and then the whole to a form (a tenth of the bot's CPU)
            data = json.dumps(request_data.parameters if request_data else {}).encode()
            headers = JSON_HEADERS
        held = url.rsplit("/", 1)[-1].startswith(HELD)
        wait = self._hold_until - time.monotonic()
        if held and wait > 0:
            # Telegram said to wait: every sending call waits, not only the one refused
            self.held += 1
            await asyncio.sleep(wait)
        try:
            async with self._session.request(
                method, url, data=data, timeout=timeout, headers=headers
            ) as res:
                body = await res.read()
                if res.status == 429:
                    FLOODS.inc()
                    self._hold(body)
                return res.status, body
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc

    async def call(self, base_url: str, method: str, params: dict[str, Any]) -> Any:
        """A Bot API call made once, straight through :meth:`post` (PTB's answer codes as
        its errors, the JSON's ``result``), without PTB's layers above it: defaults
        inserted, the rate limiter, a warning raised and silenced. For a press's pop-up, a
        third of the bot's work in a storm of presses, of which those layers were a third
        (measured); its 429 is the caller's, as the limiter leaves it
        (bot/runtime/limiter.py). (``RequestParameter`` is PTB's internal class: PTB is
        pinned to one version.)"""
        given = [RequestParameter(name, value, None) for name, value in params.items()]
        return await self.post(f"{base_url}/{method}", RequestData(given))

    def _hold(self, body: bytes) -> None:
        try:
            seconds = float(json.loads(body)["parameters"]["retry_after"])
        except (ValueError, KeyError, TypeError):
            seconds = 1.0
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)
