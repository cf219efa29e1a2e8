"""A reply's 429, in the one hook PTB has for it: a rate limiter around every Bot API call.

When Telegram answers 429 to a call a handler makes (a reply, an edit, a photo), the call
waits the seconds it was told and is made again, at most ``RETRIES`` times; then the 429
reaches the handler and the processor tries the update again later (design §9). A reply
of several calls therefore never starts over, which would repeat its first part.

Two kinds of call are made once and their 429 left to the caller: a press's answer
(``answerCallbackQuery``: worth nothing after a wait) and the outbox's queued calls
(:data:`ONCE`: the outbox puts the call back with its ``retry_after``). ``getUpdates``
never comes here (PTB makes it without the limiter); the intake waits its own 429 out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.runtime.pacing import retry_seconds

RETRIES = 2  # a call waits out this many 429s before its caller sees one
ONCE = "once"  # rate_limit_args of a call whose 429 its caller handles
Answer = bool | dict[str, Any] | list[dict[str, Any]]


class WaitOutFloods(BaseRateLimiter[str]):
    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Answer:
        retries = 0 if rate_limit_args == ONCE or endpoint == "answerCallbackQuery" else RETRIES
        for attempt in range(retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                await asyncio.sleep(retry_seconds(exc))
        raise AssertionError("unreachable")  # (the loop returns or raises)
