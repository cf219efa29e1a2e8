"""What falls through the other handlers: unknown commands and buttons, groups."""

from __future__ import annotations

from telegram import Update

from bot.chat import keyboards, labels
from handlers.common import answer, send
from handlers.context import Context


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not know (or not for this user)."""
    await send(update, context, context.render("common/unknown_command"), keyboards.main_menu())


async def unknown_button(update: Update, context: Context) -> None:
    """Callback data that is stale, forged or from another bot version."""
    query = update.callback_query
    assert query is not None
    await answer(query, context.render("common/invalid_button"), alert=True)


async def in_group(update: Update, context: Context) -> None:
    """A command in a group: opinions are private, so point to the private chat."""
    link = f"https://t.me/{context.bot.username}"
    await send(
        update,
        context,
        context.render("common/private_only"),
        keyboards.link(labels.TALK_PRIVATELY, link),
    )


async def ignore(update: Update, context: Context) -> None:
    """Updates the bot has nothing to say to (group chatter, channel posts, member changes)."""
