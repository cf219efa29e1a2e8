"""Telegram-facing flows and commands: read the update, check the role, call the core, reply.

:func:`register` adds every handler in one commented table; order matters within a group
(the first handler that matches an update takes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.chat.callbacks import Kind, decode
from handlers import (
    ballots,
    cases,
    choose,
    flows,
    gate,
    invites,
    misc,
    opinion,
    results,
    start,
    status,
    team,
)
from handlers.access import organisers
from handlers.errors import on_error

PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE  # an edited "/start" is not a new command


@dataclass(frozen=True)
class pattern:
    """Match callback data that decodes (see bot.chat.callbacks) to one of ``kinds``; the kinds
    stay readable, so tests can list every button the bot answers."""

    kinds: tuple[Kind, ...]

    def __init__(self, *kinds: Kind) -> None:
        object.__setattr__(self, "kinds", kinds)

    def __call__(self, data: object) -> bool:
        callback = decode(data) if isinstance(data, str) else None
        return callback is not None and callback.kind in self.kinds


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # The commands that name an office: a name that fits several offers them as buttons,
    # and the press runs the same handler, with its own check, again (handlers/choose.py).
    naming = {
        "invite": organisers(invites.invite),
        "daily": organisers(results.daily),
        "results": results.results_command,
        "proposal": organisers(results.proposal),
        "finding": organisers(team.finding),
        "hot": organisers(team.hot),
    }
    # Before any handler: record the person, stop replays, read the flow in progress.
    application.add_handler(TypeHandler(Update, gate.admit), group=-1)
    application.add_handlers(
        [
            # Groups: opinions are private; commands there get a pointer to the private chat,
            # everything else in a group is left alone.
            MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, misc.in_group),
            MessageHandler(~PRIVATE, misc.ignore),
            # Commands of a private chat.
            CommandHandler("start", start.start, filters=PRIVATE & NEW),
            CommandHandler("help", start.help_command, filters=PRIVATE & NEW),
            CommandHandler("myid", start.myid, filters=PRIVATE & NEW),
            CommandHandler(["opinion", "new"], opinion.begin, filters=PRIVATE & NEW),
            CommandHandler("cancel", flows.cancel, filters=PRIVATE & NEW),
            CommandHandler("status", status.status, filters=PRIVATE & NEW),
            # The people who handle cases: a handler for organisers only says so here
            # (handlers/access.py); the others check the case or scope themselves.
            CommandHandler("cases", cases.list_command, filters=PRIVATE & NEW),
            CommandHandler("overdue", cases.overdue_command, filters=PRIVATE & NEW),
            CommandHandler("history", status.status, filters=PRIVATE & NEW),
            CommandHandler("invite", naming["invite"], filters=PRIVATE & NEW),
            CommandHandler("ballots", organisers(ballots.ballots_command), filters=PRIVATE & NEW),
            CommandHandler("ballot", ballots.ballot_command, filters=PRIVATE & NEW),
            CommandHandler("turnout", organisers(ballots.turnout_command), filters=PRIVATE & NEW),
            CommandHandler("daily", naming["daily"], filters=PRIVATE & NEW),
            CommandHandler("rank", results.rank_command, filters=PRIVATE & NEW),
            CommandHandler("results", naming["results"], filters=PRIVATE & NEW),
            CommandHandler("flagged", organisers(results.flagged), filters=PRIVATE & NEW),
            CommandHandler("proposal", naming["proposal"], filters=PRIVATE & NEW),
            CommandHandler("publish", organisers(results.publish), filters=PRIVATE & NEW),
            CommandHandler("subscribe", results.subscribe, filters=PRIVATE & NEW),
            CommandHandler("unsubscribe", results.unsubscribe, filters=PRIVATE & NEW),
            CommandHandler("record", organisers(opinion.record), filters=PRIVATE & NEW),
            CommandHandler("finding", naming["finding"], filters=PRIVATE & NEW),
            CommandHandler("summary", organisers(team.summary), filters=PRIVATE & NEW),
            CommandHandler("newcases", organisers(team.newcases), filters=PRIVATE & NEW),
            CommandHandler("hot", naming["hot"], filters=PRIVATE & NEW),
            CommandHandler("export", organisers(team.export), filters=PRIVATE & NEW),
            CommandHandler("console", team.console_command, filters=PRIVATE & NEW),
            MessageHandler(PRIVATE & NEW & filters.COMMAND, misc.unknown_command),
            # Buttons, by the kind their data names; anything else is stale or forged.
            # A query without data (a game's, or forged): PTB hands it to the first handler
            # with a pattern, whatever the pattern; this one takes it and nothing else.
            CallbackQueryHandler(misc.unknown_button, pattern=lambda data: False),
            CallbackQueryHandler(start.on_menu, pattern=pattern(Kind.MENU)),
            CallbackQueryHandler(flows.on_resume, pattern=pattern(Kind.RESUME)),
            CallbackQueryHandler(flows.cancel_button, pattern=pattern(Kind.CANCEL)),
            CallbackQueryHandler(flows.on_page, pattern=pattern(Kind.PAGE)),
            CallbackQueryHandler(
                opinion.on_button,
                pattern=pattern(
                    Kind.UNIT, Kind.ITEM, Kind.ATTACHED, Kind.IDENTITY, Kind.CONFIRM, Kind.CHANNEL
                ),
            ),
            CallbackQueryHandler(status.on_case_button, pattern=pattern(Kind.CASE)),
            CallbackQueryHandler(cases.on_move_button, pattern=pattern(Kind.MOVE)),
            CallbackQueryHandler(cases.on_rating, pattern=pattern(Kind.RATE)),
            CallbackQueryHandler(cases.on_list_button, pattern=pattern(Kind.LIST)),
            CallbackQueryHandler(cases.on_files_button, pattern=pattern(Kind.FILES)),
            CallbackQueryHandler(ballots.on_ballot, pattern=pattern(Kind.BALLOT)),
            CallbackQueryHandler(ballots.on_card, pattern=pattern(Kind.CARD)),
            CallbackQueryHandler(
                organisers(ballots.on_open_confirmed), pattern=pattern(Kind.WINDOW)
            ),
            CallbackQueryHandler(
                organisers(results.on_publish_confirmed), pattern=pattern(Kind.PUBLISH)
            ),
            CallbackQueryHandler(choose.again(naming), pattern=pattern(Kind.CHOOSE)),
            CallbackQueryHandler(misc.unknown_button),
            # Edits, then everything else typed or sent in private.
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & PRIVATE, opinion.on_edited),
            MessageHandler(PRIVATE & NEW, opinion.on_message),
            # Whatever is left (poll answers, member updates …) is acknowledged silently.
            TypeHandler(object, misc.ignore),
        ]
    )
    application.add_error_handler(on_error)
