"""Ballots in chat: an evaluator's answer, the window, turnout, evaluator invites."""

from __future__ import annotations

from io import BytesIO

import qrcode
from PIL import Image, ImageDraw
from telegram import Update

from bot import ballots, keyboards, labels
from bot import roles as role_core
from bot.args import parse_number
from bot.callbacks import Kind, decode
from bot.errors import UserError
from bot.vocabulary import Role
from handlers import team
from handlers.common import answer, api, edit, send
from handlers.context import Context

MAX_INVITES = 200
LINKS_A_PAGE = 20


async def on_ballot(update: Update, context: Context) -> None:
    """An answer button on a ballot: record it and show it recorded on the ballot."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    callback = decode(query.data)
    assert callback is not None
    unit_id, item_id, index = callback.args[0], callback.args[1], int(callback.args[2])
    message = query.message
    where = (message.chat.id, message.message_id) if message is not None else None
    services = context.services
    try:
        cast = await ballots.cast(
            services, user.id, unit_id, item_id, index, context.update_id, where
        )
    except UserError as refusal:
        await answer(query, context.render(refusal.template, **refusal.context), alert=True)
        if refusal.template == "ballots/closed" and where is not None:
            await api(context.bot, "editMessageReplyMarkup", chat_id=where[0], message_id=where[1])
        return
    label = context.label(ballots.ANSWER_LABELS[ballots.Answer(cast.answer)]) if cast.answer else ""
    await answer(query, context.render("ballots/recorded", answer=label))
    if where is None:
        return
    closes = await ballots.closes_at(services)
    await edit(
        query,
        context,
        context.render(
            "ballots/ballot",
            **ballots.ballot_values(services, context.lang, unit_id, item_id, cast.answer, closes),
        ),
        ballots.ballot_keyboard(unit_id, item_id, cast.answer),
    )


async def ballots_command(update: Update, context: Context) -> None:
    """/ballots [open|close]: the state of the ballot window, or open or close it."""
    await team.require_organiser(update, context)
    services = context.services
    action = (context.args or [""])[0]
    if action == "open":
        state = await ballots.window(services)
        _, end = ballots.phase_window(services)
        reopening = state == "closed" or (state == "auto" and services.clock.now() > end)
        if reopening:
            confirm = keyboards.confirm(labels.REOPEN, Kind.WINDOW, "reopen")
            await send(update, context, context.render("ballots/confirm_reopen"), confirm)
            return
        await ballots.set_window(services, "open")
    elif action == "close":
        await ballots.set_window(services, "closed")
    elif action:
        await send(update, context, context.render("ballots/usage"))
        return
    await show_window(update, context)


async def on_reopen(update: Update, context: Context) -> None:
    """The organiser confirms opening the window again after a close."""
    query = update.callback_query
    assert query is not None
    await team.require_organiser(update, context)
    await answer(query)
    await ballots.set_window(context.services, "open")
    await show_window(update, context)


async def show_window(update: Update, context: Context) -> None:
    services = context.services
    start, end = ballots.phase_window(services)
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
        ),
    )


async def turnout_command(update: Update, context: Context) -> None:
    """/turnout: per unit and category, how many ballots are answered (counts only)."""
    await team.require_organiser(update, context)
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
        context.render("ballots/turnout", units=units, open=await ballots.is_open(services)),
    )


async def invite_evaluators(update: Update, context: Context, args: list[str]) -> None:
    """/invite evaluator CATEGORY COUNT [UNIT,…]: single-use links, and a QR sheet."""
    organiser = await team.require_organiser(update, context)
    campaign = context.services.campaign
    unit_ids = [u.id for u in campaign.units]
    categories = [c.id for c in campaign.categories]
    units = [u for part in args[2:] for u in part.split(",") if u]
    count = parse_number(args[1], 1, MAX_INVITES) if len(args) >= 2 else None
    if count is None or args[0] not in categories or any(u not in unit_ids for u in units):
        await send(
            update,
            context,
            context.render("ballots/invite_usage", categories=", ".join(categories)),
        )
        return
    category = args[0]
    codes = await role_core.make_invites(
        context.services, organiser, Role.EVALUATOR, units, count, category
    )
    links = [team.invite_link(context, code) for code in codes]
    label = next(c for c in campaign.categories if c.id == category).label(context.lang)
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
        await context.bot.send_photo(
            chat.id,
            photo=qr_sheet(page, category, first),
            caption=context.label(labels.QR_CAPTION, count=len(page)),
        )


def qr_sheet(links: list[str], category: str, first: int = 0) -> bytes:
    """A printable sheet: one numbered QR code per invite link, four to a row."""
    cell, columns = 260, 4
    rows = (len(links) + columns - 1) // columns
    sheet = Image.new("RGB", (cell * columns, cell * rows + 10), "white")
    draw = ImageDraw.Draw(sheet)
    for n, link in enumerate(links):
        code = qrcode.QRCode(border=2, box_size=5)
        code.add_data(link)
        code.make(fit=True)
        image = code.make_image(fill_color="black", back_color="white").get_image()
        image = image.convert("RGB").resize((cell - 40, cell - 40))
        x, y = (n % columns) * cell, (n // columns) * cell
        sheet.paste(image, (x + 20, y + 10))
        draw.text((x + 20, y + cell - 28), f"{first + n + 1}. {category}", fill="black")
    buffer = BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
