"""One queued Bot API call, made as JSON in and JSON out where it can be."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.runtime.limiter import ONCE

# Calls made as JSON in, JSON out: PTB's methods would build objects of the keyboard and
# parse the sent message back into objects (over a quarter of the bot's CPU while 1,000
# evaluators vote, measured).
RAW = (
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "setChatMenuButton",
)


async def call_api(bot: ExtBot[Any], method: str, payload: Mapping[str, Any]) -> Any:
    """Make one queued API call; ``payload`` holds PTB's keyword arguments as JSON. The
    answer is the Bot API's JSON for the plain calls (``RAW``). Made once: a 429 comes
    back to the outbox, which puts the call back (bot/runtime/limiter.py)."""
    if method in RAW:
        params = dict(payload)
        if method in ("sendMessage", "editMessageText"):
            params.setdefault("parse_mode", ParseMode.HTML)
            params.setdefault("link_preview_options", {"is_disabled": True})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Please use 'Bot\\.", PTBUserWarning)
            return await bot.do_api_request(method, api_kwargs=params, rate_limit_args=ONCE)
    kwargs = dict(payload)
    if isinstance(kwargs.get("reply_markup"), dict):
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(kwargs["reply_markup"], bot)
    if method in ("sendMessage", "editMessageText"):
        kwargs.setdefault("link_preview_options", LinkPreviewOptions(is_disabled=True))
    calls: dict[str, Callable[..., Awaitable[Any]]] = {
        "sendMessage": bot.send_message,
        "sendPhoto": bot.send_photo,
        "editMessageText": bot.edit_message_text,
        "editMessageReplyMarkup": bot.edit_message_reply_markup,
        "deleteMessage": bot.delete_message,
        "stopPoll": bot.stop_poll,
    }
    if method not in calls:
        raise ValueError(f"the outbox cannot send {method}")
    return await calls[method](**kwargs, rate_limit_args=ONCE)
