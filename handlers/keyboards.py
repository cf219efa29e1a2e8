"""Inline keyboards: one button per row where people choose, so old phones get big targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import labels
from bot.callbacks import Kind, encode
from bot.campaign import Campaign
from bot.cases import MoveSpec
from bot.db.cases import Case
from bot.opinions import OFFLINE_CHANNELS, OTHER, Opinion, Step
from handlers.context import Context

Row = list[InlineKeyboardButton]


def button(text: str, kind: Kind, *args: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(kind, *args))


def markup(rows: Iterable[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(r) for r in rows])


def cancel_row(context: Context) -> Row:
    return [button(context.label(labels.CANCEL), Kind.CANCEL)]


def main_menu(context: Context) -> InlineKeyboardMarkup:
    return markup(
        [
            [button(context.label(labels.OPINION), Kind.MENU, "opinion")],
            [button(context.label(labels.MY_CASES), Kind.MENU, "status")],
            [button(context.label(labels.ABOUT), Kind.MENU, "help")],
        ]
    )


def step_keyboard(context: Context, opinion: Opinion) -> InlineKeyboardMarkup:
    """The buttons of the step an opinion is at."""
    campaign: Campaign = context.services.campaign
    lang = context.lang
    rows: list[Row] = []
    if opinion.step is Step.CHANNEL:
        rows = [
            [button(context.label(labels.CHANNELS[c]), Kind.CHANNEL, c)] for c in OFFLINE_CHANNELS
        ]
    elif opinion.step is Step.UNIT:
        rows = [[button(u.label(lang), Kind.UNIT, u.id)] for u in campaign.units]
    elif opinion.step is Step.ITEM:
        rows = [[button(i.label(lang), Kind.ITEM, i.id)] for i in campaign.items]
        rows.append([button(context.label(labels.OTHER_ITEM), Kind.ITEM, OTHER)])
    elif opinion.step is Step.ATTACH:
        text = labels.CONTINUE if opinion.attachments else labels.SKIP_ATTACHMENTS
        rows = [[button(context.label(text), Kind.ATTACHED, "done")]]
    elif opinion.step is Step.IDENTITY:
        named = labels.NAMED_OFFLINE if opinion.offline else labels.NAMED
        anonymous = labels.ANONYMOUS_OFFLINE if opinion.offline else labels.ANONYMOUS
        rows = [
            [button(context.label(named), Kind.IDENTITY, "named")],
            [button(context.label(anonymous), Kind.IDENTITY, "anon")],
        ]
    elif opinion.step is Step.CONFIRM:
        rows = [
            [button(context.label(labels.SEND), Kind.CONFIRM, "send")],
            [button(context.label(labels.RESTART), Kind.CONFIRM, "restart")],
        ]
    rows.append(cancel_row(context))
    return markup(rows)


def resume_keyboard(context: Context) -> InlineKeyboardMarkup:
    return markup(
        [
            [button(context.label(labels.RESUME), Kind.RESUME, "go")],
            [button(context.label(labels.DROP), Kind.RESUME, "drop")],
        ]
    )


def cases_keyboard(context: Context, cases: Sequence[Case]) -> InlineKeyboardMarkup:
    rows = [
        [button(context.label(labels.CASE_BUTTON, number=c.id), Kind.CASE, c.id)]
        for c in cases[:10]
    ]
    rows.append([button(context.label(labels.NEW_OPINION), Kind.MENU, "opinion")])
    return markup(rows)


def after_filing(context: Context, case_id: int) -> InlineKeyboardMarkup:
    return markup(
        [
            [button(context.label(labels.CASE_BUTTON, number=case_id), Kind.CASE, case_id)],
            [button(context.label(labels.NEW_OPINION), Kind.MENU, "opinion")],
        ]
    )


def team_cases_keyboard(context: Context, cases: Sequence[Case]) -> InlineKeyboardMarkup:
    """A button per case (two a row), then the other lists."""
    buttons = [
        button(context.label(labels.CASE_BUTTON, number=c.id), Kind.CASE, c.id) for c in cases
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            button(context.label(labels.SHOW_OVERDUE), Kind.LIST, "overdue"),
            button(context.label(labels.SHOW_ALL), Kind.LIST, "all"),
        ]
    )
    return markup(rows)


def moves_keyboard(
    context: Context, case: Case, moves: Sequence[MoveSpec]
) -> InlineKeyboardMarkup | None:
    """A button per move the viewer may make on the case (and one for its files)."""
    rows = [[button(context.label(m.label), Kind.MOVE, case.id, m.move.value)] for m in moves]
    if case.attachment_count:
        rows.append(files_row(context, case))
    return markup(rows) if rows else None


def files_row(context: Context, case: Case) -> Row:
    label = context.label(labels.FILES, count=case.attachment_count)
    return [button(label, Kind.FILES, case.id)]
