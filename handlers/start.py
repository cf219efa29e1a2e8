"""/start, deep links, the main menu and /help: the campaign shown to everyone (公示)."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, Update

from bot import roles
from bot.ballots import evaluation as ballots
from bot.chat import keyboards, labels, notify
from bot.db import users as user_store
from bot.roles import INVITE_PREFIX, roles_of
from bot.vocabulary import Role
from handlers import ballots as ballot_handlers
from handlers import opinion, status, team
from handlers.common import answer, flow_name, send
from handlers.context import Context

log = logging.getLogger(__name__)

SOURCE_PREFIX = "src-"


def welcome(context: Context, note: str = "") -> str:
    services = context.services
    today = services.campaign.today(services.clock.now())
    return context.render(
        "start/welcome", today=today, current=services.campaign.phase_on(today), note=note
    )


async def start(update: Update, context: Context) -> None:
    """Show the campaign and what a resident can do; note the poster that brought them."""
    user = context.sender
    services = context.services
    payload = context.args[0] if context.args else ""
    note = ""
    if payload.startswith(SOURCE_PREFIX):
        code = payload[len(SOURCE_PREFIX) :]
        if services.campaign.source(code) is not None:
            async with services.db.transaction() as tx:
                await user_store.record_source(tx, user.id, code, services.clock.now())
        else:
            note = context.render("start/unknown_link")
    elif payload and not payload.startswith(INVITE_PREFIX):
        note = context.render("start/unknown_link")
    if payload.startswith(INVITE_PREFIX):
        await register(update, context, payload)
        return
    if services.console_url and (await roles_of(services, user.id)).team:
        # the console's menu button (once): the start of the bot may have come before them
        async with services.db.transaction() as tx:
            await notify.console_button(tx, services, user.id)
        services.outbox.wake()
    flow = context.flow
    if flow is not None:
        await send(
            update,
            context,
            welcome(context, note)
            + "\n\n"
            + context.render("flows/ask", open=flow_name(context, flow), then=False),
            keyboards.continue_or_discard(flow.stamp, "-"),
        )
        return
    await send(update, context, welcome(context, note), keyboards.main_menu())


async def register(update: Update, context: Context, code: str) -> None:
    """An invite link: register the account in the role it grants, set its menu."""
    user = context.sender
    services = context.services
    invite = await roles.accept_invite(services, user.id, code)
    category = next((c for c in services.campaign.categories if c.id == invite.category), None)
    await send(
        update,
        context,
        context.render(
            "roles/registered",
            role=invite.role,
            units=team.units_label(context, invite.units),
            category=category.label(context.lang) if category else "",
        ),
    )
    await set_user_commands(context, user.id)
    if invite.role == Role.EVALUATOR:
        if await ballots.is_open(services):
            await ballot_handlers.bring_card(update, context)  # registered while open: at once
        await ballots.watch_registrations(services, services.clock.now())


async def set_user_commands(context: Context, user_id: int) -> None:
    """The command menu of this person's roles (Telegram shows it in their chat)."""
    held = await roles.roles_of(context.services, user_id)
    commands = (
        labels.COMMANDS_ORGANISER
        if held.organiser
        else labels.COMMANDS_STAFF
        if held.staff
        else labels.COMMANDS_SUPERVISOR
        if held.supervisor
        else labels.COMMANDS_EVALUATOR
        if held.evaluator
        else labels.COMMANDS_RESIDENT
    )
    for lang, code in (("zh", None), ("en", "en")):
        menu = [BotCommand(c, context.services.texts.gettext(lang, d)) for c, d in commands]
        await context.bot.set_my_commands(
            menu, scope=BotCommandScopeChat(user_id), language_code=code
        )


async def myid(update: Update, context: Context) -> None:
    """/myid: a person's numeric Telegram id, which the administrator writes into the
    campaign file for an organiser (anyone may ask: it is their own)."""
    await send(update, context, context.render("start/myid", user_id=context.sender.id))


async def help_command(update: Update, context: Context) -> None:
    """/help: how to use the bot, in plain words."""
    user = context.sender
    roles = await roles_of(context.services, user.id)
    resident = {c for c, _ in labels.COMMANDS_RESIDENT}
    held = [
        (roles.organiser, labels.HELP_ORGANISER, labels.COMMANDS_ORGANISER),
        (bool(roles.supervisor), labels.HELP_SUPERVISOR, labels.COMMANDS_SUPERVISOR),
        (bool(roles.staff), labels.HELP_STAFF, labels.COMMANDS_STAFF),
        (bool(roles.evaluator), labels.HELP_EVALUATOR, labels.COMMANDS_EVALUATOR),
    ]
    sections, shown = [], set(resident)
    for holds, title, commands in held:
        extra = [
            (
                c,
                context.label(labels.HELP_ARGUMENTS[c]) if c in labels.HELP_ARGUMENTS else "",
                context.label(d),
            )
            for c, d in commands
            if c not in shown
        ]
        if holds and extra:
            sections.append((context.label(title), extra))
            shown.update(c for c, _, _ in extra)
    await send(
        update,
        context,
        context.render("start/help", sections=sections, organiser=roles.organiser),
        keyboards.main_menu(),
    )


async def on_menu(update: Update, context: Context) -> None:
    """A main-menu button."""
    query, _, callback = context.press
    await answer(query)
    if callback.arg == "opinion":
        await opinion.begin(update, context)
    elif callback.arg == "status":
        await status.list_cases(update, context)
    elif callback.arg == "help":
        await help_command(update, context)
    elif callback.arg == "ballot":
        await ballot_handlers.bring_card(update, context)
    else:
        await answer(query, context.render("common/invalid_button"), alert=True)
