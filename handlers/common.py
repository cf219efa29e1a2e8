"""Replies that never fail on the harmless answers Telegram gives to repeated actions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot import labels
from bot.db import drafts as draft_store
from bot.db.cases import Case
from bot.db.drafts import Draft
from handlers.context import Context

log = logging.getLogger(__name__)

# Telegram answers these when an action is repeated (a replayed update, a double tap);
# the user already sees the right thing.
HARMLESS = ("message is not modified", "query is too old", "message to edit not found")


@dataclass(frozen=True)
class CaseRow:
    """A case with its names resolved for display."""

    case: Case
    unit: str
    item: str
    state: str
    age: int = 0
    overdue: bool = False


def state_label(context: Context, state: str) -> str:
    return context.label(labels.STATES.get(state, state))


def describe(context: Context, cases: Sequence[Case]) -> list[CaseRow]:
    campaign = context.services.campaign
    rows = []
    for case in cases:
        unit = campaign.unit(case.unit_id)
        item = campaign.item(case.item_id) if case.item_id else None
        rows.append(
            CaseRow(
                case,
                unit.label(context.lang) if unit else case.unit_id,
                item.label(context.lang) if item else context.label(labels.OTHER_ITEM),
                state_label(context, case.state),
            )
        )
    return rows


async def progress(
    context: Context, user_id: int, flow: str | None = None
) -> tuple[Draft | None, bool]:
    """The person's flow in progress (of kind ``flow``, or any), and whether this update
    was applied already: a replay after a restart, whose answer went out then, so nothing
    is done again."""
    row = await draft_store.get_draft(context.services.db, user_id)
    applied = row is not None and context.update_id <= row.last_update_id
    active = row is not None and row.active and (flow is None or row.flow == flow)
    return (row if active else None), applied


def harmless(error: BadRequest) -> bool:
    return any(h in error.message.lower() for h in HARMLESS)


async def send(
    update: Update, context: Context, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message:
    """A new message in the update's chat."""
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(chat.id, text, reply_markup=keyboard)


async def answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        if not harmless(exc):
            raise
        log.debug("callback answer skipped: %s", exc.message)


async def edit(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Turn the message the button was on into ``text`` (with ``keyboard``)."""
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as exc:
        if not harmless(exc):
            raise
        log.debug("edit skipped: %s", exc.message)


async def answer_and_edit(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Acknowledge a button and turn its message into ``text``, both at once (one round
    trip of waiting instead of two)."""
    await asyncio.gather(answer(query), edit(query, text, keyboard))


async def drop_buttons(context: Context, chat_id: int | None, message_id: int | None) -> None:
    """Take the buttons off an earlier message so they cannot be pressed by mistake."""
    if chat_id is None or message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        if not harmless(exc):
            raise


async def remove(context: Context, chat_id: int | None, message_id: int | None) -> None:
    """Delete an outdated message of the bot's; if Telegram will not, take its buttons."""
    if chat_id is None or message_id is None:
        return
    try:
        await context.bot.delete_message(chat_id, message_id)
    except BadRequest as exc:
        log.debug("could not delete message %s (%s); dropping its buttons", message_id, exc.message)
        await drop_buttons(context, chat_id, message_id)
