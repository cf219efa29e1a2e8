"""A command that names an office by a part of its name that fits several: the answer
offers the offices as buttons, and a press runs the same command again with the office
chosen (the rest of the command as it was typed).

The command waits in ``meta`` under the person's id (one at a time: a newer one replaces
it), with the stamp its buttons carry, so a button of an earlier question runs nothing.
The press goes through the command's own handler, with its own role check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from telegram import Update

from bot.chat import labels
from bot.chat.callbacks import Kind
from bot.chat.keyboards import Button, column
from bot.db.ballots import drop_meta, get_meta, set_meta
from bot.errors import UserError
from handlers.access import Callback
from handlers.common import answer, send
from handlers.context import Context


def key(user_id: int) -> str:
    return f"choice:{user_id}"


async def offer(update: Update, context: Context, refusal: UserError) -> bool:
    """Answer a command whose office name fits several with the offices as buttons; False
    when this refusal is not such a question (or the update no typed command)."""
    choices = refusal.context.get("choices")
    text = context.command_text
    if not choices or not text:
        return False
    user = context.sender
    services = context.services
    stamp = context.update_id
    waiting = {"stamp": stamp, "text": text, "given": refusal.context["given"]}
    async with services.db.single() as tx:
        await set_meta(tx, key(user.id), json.dumps(waiting, ensure_ascii=False))
    units = [u for u in (services.campaign.unit(c) for c in choices) if u is not None]
    buttons = [Button(u.label(context.lang), Kind.CHOOSE, (u.id, stamp), plain=True) for u in units]
    await send(update, context, context.render("units/choose", **refusal.context), column(buttons))
    return True


def again(commands: Mapping[str, Callback]) -> Callback:
    """The press on an office offered by :func:`offer`: the command again, with it."""

    async def on_choose(update: Update, context: Context) -> None:
        query, user, button = context.press
        unit_id, stamp = button.args
        stored = await get_meta(context.services.db, key(user.id))
        waiting = json.loads(stored) if stored else None
        if not waiting or str(waiting["stamp"]) != stamp:
            await answer(query, context.label(labels.CHOICE_GONE))
            return
        await answer(query)
        text, given = waiting["text"], waiting["given"]
        words = text.split()
        name = words[0].lstrip("/").split("@")[0]
        args = words[1:]
        args = completed(args, given, unit_id)
        handler = commands.get(name)
        if handler is None:
            return
        context.args = args
        context.command_text = " ".join([words[0], *args])
        await handler(update, context)
        async with context.services.db.single() as tx:  # after: a replay runs it again
            await drop_meta(tx, key(user.id))

    return on_choose


def completed(args: list[str], given: str, unit_id: str) -> list[str]:
    """The command's words with the office chosen in place of the name that fit several
    (a word of its own, or one of a list such as 东、西)."""
    for n, arg in enumerate(args):
        parts = re.split(r"([,，、])", arg)
        if given in parts:
            parts[parts.index(given)] = unit_id
            return [*args[:n], "".join(parts), *args[n + 1 :]]
    return [unit_id]  # the name was all the words (/results 东湖 街道)
