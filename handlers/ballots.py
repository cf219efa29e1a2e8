"""Ballots in chat: an evaluator's answer, the window, turnout, evaluator invites."""

from __future__ import annotations

import contextlib
import re

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot import roles as role_core
from bot.args import parse_number
from bot.ballots import cards
from bot.ballots import evaluation as ballots
from bot.chat import keyboards, labels
from bot.chat.callbacks import Kind, is_card_button
from bot.db import cards as card_store
from bot.errors import UserError
from bot.roles import qr_sheet
from bot.runtime.processor import beside_the_lane
from bot.vocabulary import Role
from handlers import team
from handlers.access import asker
from handlers.common import HTML, answer, api, send, send_file
from handlers.context import Context

MAX_INVITES = 200
LINKS_A_PAGE = 20


async def on_ballot(update: Update, context: Context) -> None:
    """An answer on a ballot card: record it, confirm it at once in the pop-up; the card
    is edited soon after (coalesced: a fast evaluator's presses make one edit). A press
    counts from any card of the current round (a crash may have left two)."""
    query, user, callback = context.press
    unit_id, item_id, index = callback.args[0], callback.args[1], int(callback.args[2])
    services = context.services
    pressed = await card_source(query, context, user.id)
    if pressed is None:
        return
    try:
        cast = await ballots.cast(services, user.id, unit_id, item_id, index, context.update_id)
    except UserError as refusal:
        await answer(query, context.render(refusal.template, **refusal.context), alert=True)
        if refusal.template == "ballots/closed":
            services.outbox.card_changed(user.id)  # the card shows it is closed
        return
    label = cards.answer_label(services, context.lang, cast.answer)
    replaced = pressed.source == cards.Source.REPLACED
    shown = context.popup("ballots/recorded", answer=label, changed=cast.changed, moved=replaced)
    # stored: the evaluator's next press need not wait for this one's pop-up
    await beside_the_lane(answer(query, shown, alert=replaced))
    if cast.changed or pressed.source == cards.Source.ADOPTED:
        services.outbox.card_changed(user.id)
    if replaced:
        await point_to_live(query, context)


async def card_source(query: CallbackQuery, context: Context, user_id: int) -> cards.Pressed | None:
    """Which card a press came from; None (answered already) when nothing counts from it:
    a card of a round that has ended, or a message that never was a card."""
    message = query.message if isinstance(query.message, Message) else None
    shows_card = message is not None and any(
        is_card_button(str(button.callback_data or ""))
        for row in (message.reply_markup.inline_keyboard if message.reply_markup else ())
        for button in row
    )
    pressed = await cards.pressed_on(
        context.services, user_id, message.message_id if message else None, shows_card
    )
    if pressed.source == cards.Source.EARLIER_ROUND:
        shown = context.render("ballots/round_over", round=pressed.round_name)
        await answer(query, shown, alert=True)
        return None
    if pressed.source == cards.Source.NOT_A_CARD:
        await answer(query, context.render("ballots/card_moved"), alert=True)
        return None
    return pressed


async def point_to_live(query: CallbackQuery, context: Context) -> None:
    """An older card of this round (pressed from a client that still shows it) becomes a
    pointer to the card in use, without buttons."""
    if query.message is None:
        return
    with contextlib.suppress(BadRequest):  # gone already, or pointing already
        await api(
            context.bot,
            "editMessageText",
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            text=context.render("cards/moved"),
            parse_mode=HTML,
        )


async def on_card(update: Update, context: Context) -> None:
    """The card's own buttons: another office, the list, what is left, an item's name,
    or (from a reminder) the card brought back to the bottom of the chat."""
    query, user, callback = context.press
    services = context.services
    kind, arg = callback.args
    if kind == "back":
        await answer(query)
        await bring_card(update, context)
        return
    person = await ballots.evaluator(services, user.id)
    if person is None:
        await answer(query, context.render("ballots/not_evaluator"), alert=True)
        return
    pressed = await card_source(query, context, user.id)
    if pressed is None:
        return
    if pressed.source == cards.Source.REPLACED:
        await answer(query, context.render("ballots/card_moved"), alert=True)
        await point_to_live(query, context)
        return
    if pressed.source == cards.Source.ADOPTED:
        services.outbox.card_changed(user.id)
    if kind == "i":
        item = services.campaign.item(arg)
        shown = (item.description or item.label(context.lang)) if item else ""
        await answer(query, shown[:190] or context.render("common/invalid_button"))
        return
    if kind not in ("u", "l", "t") or not (arg.isascii() and arg.isdigit()):
        await answer(query, context.render("common/invalid_button"), alert=True)
        return
    await answer(query)
    view = str(cards.View.parse(f"{kind}:{arg}", len(person.units)))
    async with services.db.batch() as tx:
        await card_store.set_view(tx, user.id, view)
    services.outbox.card_changed(user.id)


async def ballot_command(update: Update, context: Context) -> None:
    """/ballot: the evaluator's card, brought back to the bottom of the chat."""
    await bring_card(update, context)


async def bring_card(update: Update, context: Context) -> None:
    """Send the evaluator's card anew at the bottom of the chat; the card it replaces is
    disabled and points to it. Only one card is in use at a time."""
    user = context.sender
    services = context.services
    person = await ballots.evaluator(services, user.id)
    if person is None:
        raise UserError("ballots/not_evaluator")
    if await card_store.get_card(services.db, user.id) is None:
        if not await ballots.is_open(services):
            raise UserError("ballots/not_open")
        async with services.db.batch() as tx:
            await card_store.new_card(tx, user.id)
    old = await card_store.get_card(services.db, user.id)
    view = await cards.render(services, user.id, context.lang)
    if view is None or old is None:
        raise UserError("ballots/not_evaluator")
    posted = await send(update, context, view.text, view.keyboard)
    async with services.db.batch() as tx:
        await card_store.sent(tx, user.id, posted.message_id)
    if old.message_id is not None and old.message_id != posted.message_id:
        with contextlib.suppress(BadRequest):  # gone already, or the same: nothing to undo
            await api(
                context.bot,
                "editMessageText",
                chat_id=posted.chat_id,
                message_id=old.message_id,
                text=context.render("cards/moved"),
                parse_mode=HTML,
            )


async def ballots_command(update: Update, context: Context) -> None:
    """/ballots [open|close]: the state of the ballot window, or open or close it."""
    services = context.services
    action = (context.args or [""])[0]
    if action == "open":
        state = await ballots.window(services)
        start, end = ballots.phase_window(services)
        now = services.clock.now()
        if state == "closed" or (state == "auto" and now > end):  # opening again asks first
            confirm = keyboards.confirm(labels.REOPEN, Kind.WINDOW, "reopen")
            await send(update, context, context.render("ballots/confirm_reopen"), confirm)
            return
        if state == "auto" and now < start:  # before the plan's phase: asks first too
            confirm = keyboards.confirm(labels.OPEN_EARLY, Kind.WINDOW, "early")
            text = context.render("ballots/confirm_early", start=start, end=end)
            await send(update, context, text, confirm)
            return
        await ballots.set_window(services, "open", context.sender.id)
    elif action == "close":
        await ballots.set_window(services, "closed", context.sender.id)
    elif action:
        await send(update, context, context.render("ballots/usage"))
        return
    await show_window(update, context)


async def on_open_confirmed(update: Update, context: Context) -> None:
    """The organiser confirms opening the window: again after a close, or before the plan's
    evaluation phase."""
    await answer(context.press.query)
    await ballots.set_window(context.services, "open", context.sender.id)
    await show_window(update, context)


async def show_window(update: Update, context: Context) -> None:
    """The window's state; once it is open, the offices with fewer evaluators than small-
    group secrecy needs (their breakdowns will not be shown)."""
    services = context.services
    start, end = ballots.phase_window(services)
    small: list[str] = []
    if await ballots.is_open(services):
        evaluators: dict[str, int] = {}
        for row in await ballots.turnout(services):
            evaluators[row.unit_id] = evaluators.get(row.unit_id, 0) + row.evaluators
        small = [
            f"{unit.label(context.lang)}（{evaluators.get(unit.id, 0)}）"
            for unit in services.campaign.units
            if not services.campaign.ballots.shows(evaluators.get(unit.id, 0))
        ]
    await send(
        update,
        context,
        context.render(
            "ballots/window",
            state=await ballots.window(services),
            start=start,
            end=end,
            open=await ballots.is_open(services),
            before=services.clock.now() < start,
            small=small,
            k=services.campaign.ballots.smallest_group,
        ),
    )


async def turnout_command(update: Update, context: Context) -> None:
    """/turnout: per unit and category, how many ballots are answered (counts only)."""
    services = context.services
    rows = await ballots.turnout(services)
    campaign = services.campaign
    units = []
    for unit in campaign.units:
        mine = [
            {
                "category": (
                    campaign_category.label(context.lang)
                    if (
                        campaign_category := next(
                            (c for c in campaign.categories if c.id == r.category), None
                        )
                    )
                    else r.category
                ),
                "evaluators": r.evaluators,
                "answered": r.answered,
                "expected": r.expected,
                "share": f"{100 * r.answered / r.expected:.0f}%" if r.expected else "—",
            }
            for r in rows
            if r.unit_id == unit.id
        ]
        if mine:
            units.append((unit.label(context.lang), mine))
    await send(
        update,
        context,
        context.render("ballots/turnout", units=units, window=await ballots.window_now(services)),
    )


async def invite_evaluators(update: Update, context: Context, args: list[str]) -> None:
    """/invite evaluator CATEGORY COUNT [UNIT,…]: single-use links, and a QR sheet."""
    organiser = asker(update)
    campaign = context.services.campaign
    count = parse_number(args[1], 1, MAX_INVITES) if len(args) >= 2 else None
    if count is None:
        names = "、".join(c.label(context.lang) for c in campaign.categories)
        await send(update, context, context.render("ballots/invite_usage", categories=names))
        return
    found = campaign.find_category(args[0])  # by name, part of it, or code
    named = [u for part in args[2:] for u in re.split(r"[,，、]", part) if u]
    units = [campaign.find_unit(u).id for u in named]  # by name, part of it, or code
    category = found.id
    codes = await role_core.make_invites(
        context.services, organiser, Role.EVALUATOR, units, count, category
    )
    links = [team.invite_link(context, code) for code in codes]
    label = found.label(context.lang)
    chat = update.effective_chat
    assert chat is not None
    # A message holds 4096 characters and a photo a few thousand pixels: the links go in
    # pages of LINKS_A_PAGE, each followed by its printable sheet of QR codes.
    for first in range(0, len(links), LINKS_A_PAGE):
        page = links[first : first + LINKS_A_PAGE]
        await send(
            update,
            context,
            context.render(
                "ballots/invites",
                links=page,
                first=first,
                total=len(links),
                category=label,
                units=team.units_label(context, tuple(units)),
            ),
        )
        await send_file(
            context,
            chat.id,
            "photo",
            qr_sheet(page, label, first),
            context.label(labels.QR_CAPTION, count=len(page)),
        )
