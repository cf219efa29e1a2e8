"""Telling people things: the one place that queues what the bot sends to someone who is
not in front of it (or later).

A notification is rendered in its recipient's language (the one stored with them, else the
default), with its keyboard, and queued in the outbox inside the transaction of the change
that causes it, under an idempotency key: a key queues once ever, so a replay, a second
scan or a restart sends nothing twice. The outbox (``bot.runtime.outbox``) sends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.chat import labels
from bot.chat.keyboards import Keyboard, markup
from bot.chat.split import split_html
from bot.clock import iso
from bot.db import Tx
from bot.db import outbox as outbox_store
from bot.db import users as user_store
from bot.services import Services
from bot.texts import DEFAULT_LANG


async def language(tx: Tx, recipient: int | str) -> str:
    """The recipient's language: what they wrote to the bot in, else the default."""
    found = await user_store.language_of(tx, recipient) if isinstance(recipient, int) else None
    return found or DEFAULT_LANG


async def notify(
    tx: Tx,
    services: Services,
    recipient: int | str,
    template: str,
    key: str,
    *,
    values: Mapping[str, Any] | None = None,
    keyboard: Keyboard | None = None,
    lang: str | None = None,
) -> bool:
    """Queue ``template`` for ``recipient`` under ``key``; True if it was not queued before."""
    lang = lang or await language(tx, recipient)
    text = services.texts.render(template, lang, campaign=services.campaign, **(values or {}))
    pieces = split_html(text)
    shown = markup(keyboard, services.texts, lang)
    new = False
    for n, piece in enumerate(pieces, start=1):
        payload: dict[str, Any] = {"text": piece}
        if shown is not None and n == len(pieces):
            payload["reply_markup"] = shown
        part = key if n == 1 else f"{key}:part{n}"
        new = (
            await outbox_store.enqueue(
                tx, recipient, "sendMessage", payload, services.clock.now(), part
            )
            or new
        )
    return new


async def console_button(tx: Tx, services: Services, user_id: int) -> bool:
    """Give an organiser, supervisor or member of staff the menu button that opens the
    console as a Mini App (set for their chat only), once per console address."""
    url = services.console_url
    if not url:
        return False
    lang = await language(tx, user_id)
    button = {
        "type": "web_app",
        "text": services.texts.gettext(lang, labels.CONSOLE_BUTTON),
        "web_app": {"url": url},
    }
    return await outbox_store.enqueue(
        tx,
        user_id,
        "setChatMenuButton",
        {"menu_button": button},
        services.clock.now(),
        f"menu:{user_id}:{url}",
    )


async def no_console_button(tx: Tx, services: Services, user_id: int) -> None:
    """Take the console's menu button away (a role revoked): the chat's default menu; a
    button given again later is queued anew."""
    url = services.console_url
    if not url:
        return
    now = services.clock.now()
    await outbox_store.forget_key(tx, f"menu:{user_id}:{url}", now)
    await outbox_store.enqueue(
        tx,
        user_id,
        "setChatMenuButton",
        {"menu_button": {"type": "default"}},
        now,
        f"menu-off:{user_id}:{iso(now)}",
    )


async def notify_each(
    tx: Tx,
    services: Services,
    recipients: Iterable[int],
    template: str,
    key: str,
    *,
    values: Mapping[str, Any] | None = None,
    keyboard: Keyboard | None = None,
) -> int:
    """:func:`notify` each recipient once (``key`` + ``:<id>``); returns how many were new."""
    queued = 0
    for user_id in dict.fromkeys(recipients):
        queued += await notify(
            tx, services, user_id, template, f"{key}:{user_id}", values=values, keyboard=keyboard
        )
    return queued


async def photo(
    tx: Tx, services: Services, recipient: int | str, blob_id: int, caption: str, key: str
) -> bool:
    """Queue a picture kept in the database (a chart) with its caption."""
    return await outbox_store.enqueue(
        tx,
        recipient,
        "sendPhoto",
        {"photo_blob": blob_id, "caption": caption},
        services.clock.now(),
        key,
    )


async def take_buttons(tx: Tx, services: Services, chat_id: int, message_id: int, key: str) -> bool:
    """Queue taking the buttons off a message sent earlier (a form that ended, a closed
    ballot), so nobody presses them by mistake."""
    return await outbox_store.enqueue(
        tx,
        chat_id,
        "editMessageReplyMarkup",
        {"message_id": message_id},
        services.clock.now(),
        key,
    )


async def card(tx: Tx, services: Services, user_id: int, key: str) -> bool:
    """Queue an evaluator's ballot card. Nothing of it is stored: the outbox renders it
    from the ballots when it sends it (:mod:`bot.ballots.cards`), so no queued text ever holds an
    account's answers."""
    return await outbox_store.enqueue(
        tx, user_id, outbox_store.SEND_CARD, {}, services.clock.now(), key
    )
