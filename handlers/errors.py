"""The one error handler: log first (with the traceback, without what users wrote), then
tell the user something calm, or have the update tried again when the trouble passes."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.db import users as user_store
from bot.errors import UserError
from bot.runtime.pacing import retry_seconds
from bot.runtime.processor import CURRENT_OUTCOME
from handlers import choose
from handlers.common import answer
from handlers.context import Context

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    outcome = CURRENT_OUTCOME.get()
    if isinstance(error, RetryAfter):
        log.warning("update %s hit Telegram's flood limit; retrying", update_id)
        if outcome is not None:
            outcome.retry_after = retry_seconds(error)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("update %s: network trouble (%s); retrying", update_id, error.message)
        if outcome is not None:
            outcome.retry_after = 2.0
        return
    if isinstance(error, Forbidden):
        if isinstance(update, Update) and update.effective_user is not None:
            log.info("user blocked the bot; update %s dropped", update_id)
            await user_store.mark_blocked(
                context.services.db, update.effective_user.id, context.services.clock.now()
            )
        return
    if isinstance(error, UserError):
        if isinstance(update, Update) and await choose.offer(update, context, error):
            return  # a name that fits several offices: they are offered as buttons
        await _tell(update, context, context.render(error.template, **error.context))
        return
    log.error("update %s failed: %s", update_id, trace(error) if error else "?")
    if not isinstance(error, TelegramError):
        await _tell(update, context, context.render("common/error"))


def trace(error: BaseException) -> str:
    """What failed and where, without the error's message: a message can quote what a
    person wrote (``invalid literal for int(): '…'``), and logs never hold that."""
    kind = type(error)
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"{kind.__module__}.{kind.__qualname__}\n{frames}".rstrip()


async def _tell(update: object, context: Context, text: str) -> None:
    if not isinstance(update, Update):
        return
    query = update.callback_query
    outcome = CURRENT_OUTCOME.get()
    if query is not None and len(text) <= 200 and not (outcome and outcome.answered):
        # a refused button: the answer is the pop-up (and stops the button's spinner);
        # when the handler had answered already, it is said in the chat instead
        await answer(query, text)
        return
    if update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("could not tell the user about an error: %s", exc)
