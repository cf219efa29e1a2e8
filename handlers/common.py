"""Replies that never fail on the harmless answers Telegram gives to repeated actions."""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass
from typing import Any

from telegram import Bot, CallbackQuery, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

from bot.cases.moves import MOVES
from bot.chat import keyboards
from bot.chat.flows import kind_of
from bot.chat.keyboards import Keyboard
from bot.chat.split import split_html
from bot.db import flows as flow_store
from bot.db import users as user_store
from bot.db.flows import Flow
from bot.runtime.processor import CURRENT_OUTCOME
from bot.runtime.transport import AiohttpRequest
from bot.vocabulary import FlowKind, Move
from handlers.context import Context

log = logging.getLogger(__name__)

HTML = ParseMode.HTML
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# Telegram answers these when an action is repeated (a replayed update, a double tap);
# the user already sees the right thing.
HARMLESS = ("message is not modified", "query is too old", "message to edit not found")


def harmless(error: BadRequest) -> bool:
    return any(h in error.message.lower() for h in HARMLESS)


@dataclass(frozen=True)
class Posted:
    """Where a message we sent landed."""

    chat_id: int
    message_id: int


async def api(bot: Bot, method: str, **params: Any) -> Any:
    """A Bot API call whose answer we do not need as PTB objects (every reply a handler
    sends): PTB's ``do_api_request``, which leaves the JSON as it came. Parsing each sent
    message back into objects took a fifth of the bot's CPU under load (measured). A 429
    is waited out by the rate limiter (bot/runtime/limiter.py)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Please use 'Bot\\.", PTBUserWarning)
        return await bot.do_api_request(method, api_kwargs=params)


async def send_file(
    context: Context,
    chat_id: int,
    kind: str,
    data: bytes,
    caption: str,
    filename: str | None = None,
) -> None:
    """A picture (``kind`` "photo") or a document of ours."""
    if kind == "photo":
        await context.bot.send_photo(chat_id, photo=data, caption=caption)
    else:
        await context.bot.send_document(chat_id, document=data, filename=filename, caption=caption)


def _markup(reply_markup: dict[str, Any] | None) -> dict[str, Any]:
    return {} if reply_markup is None else {"reply_markup": reply_markup}


async def send(
    update: Update, context: Context, text: str, keyboard: Keyboard | None = None
) -> Posted:
    """A new message in the update's chat."""
    chat = update.effective_chat
    assert chat is not None
    return await send_to(context, chat.id, text, keyboard)


async def send_to(
    context: Context, chat_id: int, text: str, keyboard: Keyboard | None = None
) -> Posted:
    """``text`` in as many messages as it needs (see bot.chat.split), the keyboard under the
    last; where the last landed."""
    pieces = split_html(text)
    posted = None
    for n, piece in enumerate(pieces, start=1):
        sent = await api(
            context.bot,
            "sendMessage",
            chat_id=chat_id,
            text=piece,
            parse_mode=HTML,
            link_preview_options=NO_PREVIEW,
            **_markup(context.markup(keyboard) if n == len(pieces) else None),
        )
        posted = Posted(int(sent["chat"]["id"]), int(sent["message_id"]))
    assert posted is not None
    return posted


async def answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press (a pop-up with ``text``); Telegram takes one answer per press,
    so a second is not sent."""
    outcome = CURRENT_OUTCOME.get()
    if outcome is not None:
        if outcome.answered:
            log.debug("button press answered already; a second answer is not sent")
            return
        outcome.answered = True
    params: dict[str, Any] = {"callback_query_id": query.id}
    if text:
        params |= {"text": text, "show_alert": alert}
    bot = query.get_bot()
    try:
        if isinstance(bot.request, AiohttpRequest):  # (ours: every bot but a test's own)
            await bot.request.call(bot.base_url, "answerCallbackQuery", params)
        else:
            await api(bot, "answerCallbackQuery", **params)
    except BadRequest as exc:
        if not harmless(exc):
            raise
        log.debug("callback answer skipped: %s", exc.message)


async def edit(
    query: CallbackQuery, context: Context, text: str, keyboard: Keyboard | None = None
) -> None:
    """Turn the message the button was on into ``text`` (with ``keyboard``)."""
    message = query.message
    if message is None:
        return
    if getattr(message, "text", None) is None:
        # a photo or a document (or a message too old to see) has no text to turn into
        # ``text``: say it in a new message instead
        await send_to(context, message.chat.id, text, keyboard)
        return
    first, *rest = split_html(text)
    try:
        await api(
            query.get_bot(),
            "editMessageText",
            chat_id=message.chat.id,
            message_id=message.message_id,
            text=first,
            parse_mode=HTML,
            link_preview_options=NO_PREVIEW,
            **_markup(None if rest else context.markup(keyboard)),
        )
    except BadRequest as exc:
        if not harmless(exc):
            raise
        log.debug("edit skipped: %s", exc.message)
    if rest:  # the rest of a text longer than a message follows it
        await send_to(context, message.chat.id, "\n".join(rest), keyboard)


async def answer_and_edit(
    query: CallbackQuery, context: Context, text: str, keyboard: Keyboard | None = None
) -> None:
    """Acknowledge a button and turn its message into ``text``, both at once (one round
    trip of waiting instead of two)."""
    await asyncio.gather(answer(query), edit(query, context, text, keyboard))


async def drop_buttons(context: Context, chat_id: int | None, message_id: int | None) -> None:
    """Take the buttons off an earlier message so they cannot be pressed by mistake."""
    if chat_id is None or message_id is None:
        return
    try:
        await api(context.bot, "editMessageReplyMarkup", chat_id=chat_id, message_id=message_id)
    except BadRequest as exc:
        if not harmless(exc):
            raise


async def remove(context: Context, chat_id: int | None, message_id: int | None) -> None:
    """Delete an outdated message of the bot's; if Telegram will not, take its buttons."""
    if chat_id is None or message_id is None:
        return
    try:
        await api(context.bot, "deleteMessage", chat_id=chat_id, message_id=message_id)
    except BadRequest as exc:
        log.debug("could not delete message %s (%s); dropping its buttons", message_id, exc.message)
        await drop_buttons(context, chat_id, message_id)


def tapped(query: CallbackQuery) -> tuple[int | None, int | None]:
    """The chat and message whose button was pressed (None when not known)."""
    message = query.message
    return (message.chat.id, message.message_id) if message is not None else (None, None)


# -- flows: one open at a time --------------------------------------------------------------


async def save_flow(context: Context, flow: Flow) -> None:
    """Commit a flow's new state together with the update's applied mark (after the
    person was answered: a replay before this commit simply does the step again)."""
    services = context.services
    async with services.db.batch() as tx:
        await flow_store.save_flow(tx, flow, services.clock.now())
        await user_store.mark_applied(tx, flow.user_id, context.update_id)


async def end_flow(context: Context, flow: Flow) -> None:
    """End ``flow`` (that run of it only), with the update's applied mark."""
    async with context.services.db.batch() as tx:
        await flow_store.end_flow(tx, flow.user_id, flow.started_at)
        await user_store.mark_applied(tx, flow.user_id, context.update_id)


def flow_name(context: Context, flow: Flow) -> str:
    """What the person is in the middle of, in a few words."""
    campaign = context.services.campaign
    kind = kind_of(flow)
    if kind is FlowKind.MOVE:
        spec = MOVES.get(Move(flow.data["move"])) if flow.data.get("move") in set(Move) else None
        return context.render(
            "flows/name_move",
            case_id=flow.data.get("case_id"),
            move=context.label(spec.label) if spec else "",
        )
    unit = campaign.unit(str(flow.data.get("unit_id") or ""))
    return context.render(
        "flows/name_opinion",
        record=kind is FlowKind.RECORD,
        unit=unit.label(context.lang) if unit else "",
    )


async def ask_first(update: Update, context: Context, flow: Flow, then: str) -> None:
    """Another flow is open: ask whether to continue it or discard it (and go on to
    ``then``: a flow's name, ``v.<case>.<move>``, or ``-`` for nothing). Nothing is
    discarded without the person saying so."""
    await send(
        update,
        context,
        context.render("flows/ask", open=flow_name(context, flow), then=then != "-"),
        keyboards.continue_or_discard(flow.stamp, then),
    )
