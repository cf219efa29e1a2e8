"""Cases for the people who handle them: lists, the case card with the moves a role may
make, the questions a move needs, and the resident's rating.

Who may see a case, and what they may do with it, is :func:`bot.cases.access.case_access`: the
unit's staff and supervisors never see an anonymous resident's name; organisers see
everything; a resident sees their own case.

A move that needs answers (a reason, a plan, a deadline) is a flow of its own: its
questions survive every other command and button, and another flow asks first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from telegram import Update

from bot.cases.access import CaseAccess, case_access
from bot.cases.moves import (
    MOVES,
    Actor,
    Fields,
    MoveSpec,
    apply_move,
    check_move,
    rate_case,
    read_field,
)
from bot.cases.opinions import origin_key
from bot.chat import keyboards, labels
from bot.chat.flows import kind_of
from bot.db import cases as case_store
from bot.db.flows import Flow
from bot.errors import UserError
from bot.roles import roles_of
from bot.vocabulary import OPEN_STATES, FlowKind, Move, Need, Rating
from handlers.common import (
    answer,
    api,
    ask_first,
    drop_buttons,
    end_flow,
    save_flow,
    send,
    tapped,
)
from handlers.context import Context

LISTED = 20  # cases a page


# -- lists ------------------------------------------------------------------------------------


async def list_command(update: Update, context: Context) -> None:
    """/cases [all|overdue|UNIT]: the cases of the units you handle or supervise."""
    await show_list(update, context, context.args[0] if context.args else "open", 0)


async def overdue_command(update: Update, context: Context) -> None:
    """/overdue: cases past their deadline, for supervisors, staff and organisers."""
    await show_list(update, context, "overdue", 0)


async def on_list_button(update: Update, context: Context) -> None:
    query, _, callback = context.press
    await answer(query)
    page = int(callback.args[1]) if len(callback.args) > 1 else 0
    await show_list(update, context, callback.arg, page)


async def show_list(update: Update, context: Context, which: str, page: int) -> None:
    """A page of a case list: open (the default), all, overdue, or one unit's open cases."""
    user = context.sender
    services = context.services
    roles = await roles_of(services, user.id)
    if not roles.team:
        raise UserError("case/not_allowed")
    all_units = [u.id for u in services.campaign.case_units]
    units = roles.units(all_units)
    title = {"all": labels.LIST_ALL, "overdue": labels.LIST_OVERDUE}.get(which, labels.LIST_OPEN)
    if which in all_units:
        if which not in units:
            raise UserError("case/not_allowed")
        units = [which]
    elif which not in ("open", "all", "overdue"):
        raise UserError("common/invalid_button")
    now = services.clock.now()
    first = page * LISTED
    if which == "overdue":
        mine = set(units)
        due = [c for c in await case_store.due_before(services.db, now) if c.unit_id in mine]
        cases = due[first : first + LISTED + 1]
    else:
        states = None if which == "all" else sorted(OPEN_STATES)
        cases = await case_store.list_cases(services.db, units, states, LISTED + 1, first)
    more, cases = len(cases) > LISTED, cases[:LISTED]
    rows = context.reader().views(cases)
    await send(
        update,
        context,
        context.render(
            "team/cases", title=context.label(title), rows=rows, page=page + 1, first=first
        ),
        keyboards.team_cases([c.id for c in cases], which, page, more),
    )


# -- the card ---------------------------------------------------------------------------------


async def show_card(update: Update, context: Context, case_id: int) -> bool:
    """The case card for the unit's team or an organiser, with the moves they may make.
    Returns False when the person is not on the case's team (the caller decides)."""
    user = context.sender
    access = await case_access(context.services, user.id, case_id)
    if access is None or not access.team:
        return False
    await send_card(update, context, access)
    return True


async def send_card(update: Update, context: Context, access: CaseAccess) -> None:
    services = context.services
    case = access.case
    reader = context.reader()
    text = context.render(
        "case/card",
        row=reader.view(case),
        show_identity=access.identity,
        history=reader.history(await case_store.case_history(services.db, case.id)),
    )
    allowed = [(m.label, m.move.value) for m in access.moves]
    await send(update, context, text, keyboards.moves(case.id, allowed, case.attachment_count))


# -- moves ------------------------------------------------------------------------------------


def actor(context: Context, access: CaseAccess, user_id: int, name: str) -> Actor:
    return Actor(user_id, access.roles, name)


async def on_move_button(update: Update, context: Context) -> None:
    """A move's button on a case card: make it, or ask for what it needs first."""
    query, user, callback = context.press
    case_id, move_name = int(callback.args[0]), callback.args[1]
    try:
        move = Move(move_name)
    except ValueError:
        await answer(query, context.render("common/invalid_button"), alert=True)
        return
    access = await case_access(context.services, user.id, case_id)
    if access is None:
        await answer(query, context.render("status/not_found", case_id=case_id), alert=True)
        return
    try:
        spec = check_move(access.case, move, actor(context, access, user.id, user.full_name))
    except UserError as refusal:
        if await case_store.made_by_update(context.services.db, origin_key(context.update_id)):
            # this very press made the move before a crash cut its card short (a replay):
            # the card, not a refusal of the move it made
            await answer(query)
            await show_card(update, context, case_id)
            return
        await answer(query, context.render(refusal.template, **refusal.context), alert=True)
        return
    await answer(query)
    if not spec.needs:
        await make_move(update, context, case_id, move, Fields())
        return
    flow = context.flow
    if flow is None:
        await start_move(update, context, case_id, spec)
    elif kind_of(flow) is FlowKind.MOVE and same_move(flow, case_id, move):
        await ask_again(update, context, flow)
    else:
        await ask_first(update, context, flow, f"v.{case_id}.{move.value}")


def same_move(flow: Flow, case_id: int, move: Move) -> bool:
    return flow.data.get("case_id") == case_id and flow.data.get("move") == move.value


async def start_move(update: Update, context: Context, case_id: int, spec: MoveSpec) -> None:
    """Ask the move's first question; the answers are a flow of their own."""
    user = context.sender
    need = spec.needs[0]
    await send(
        update,
        context,
        ask_text(context, case_id, spec.move, need),
        keyboards.keyboard([keyboards.cancel(context.stamp)]),
    )
    data = {"case_id": case_id, "move": spec.move.value}
    await save_flow(
        context, Flow(user.id, FlowKind.MOVE, need.value, data, started_at=context.started)
    )


async def start_move_by_name(update: Update, context: Context, then: str) -> None:
    """Start the move named ``v.<case>.<move>`` (after another flow was discarded), if the
    person may still make it."""
    user = context.sender
    _, case_id, move_name = then.split(".")
    access = await case_access(context.services, user.id, int(case_id))
    if access is None:
        raise UserError("status/not_found", case_id=case_id)
    spec = check_move(access.case, Move(move_name), actor(context, access, user.id, ""))
    if not spec.needs:
        raise UserError("common/invalid_button")
    await start_move(update, context, int(case_id), spec)


async def ask_again(update: Update, context: Context, flow: Flow) -> None:
    """The question the move's flow is at, asked again (continuing it)."""
    move, need = Move(flow.data["move"]), Need(flow.step)
    await send(
        update,
        context,
        ask_text(context, int(flow.data["case_id"]), move, need),
        keyboards.keyboard([keyboards.cancel(flow.stamp)]),
    )


def ask_text(context: Context, case_id: int, move: Move, need: Need) -> str:
    return context.render(
        "case/ask_field",
        case_id=case_id,
        move=move.value,
        need=need.value,
        label=context.label(MOVES[move].label),
    )


async def on_field(update: Update, context: Context, flow: Flow) -> None:
    """An answer to what a move needs (a reason, a plan, a deadline)."""
    message = update.effective_message
    assert message is not None
    data: dict[str, Any] = dict(flow.data)
    move, need = Move(data["move"]), Need(flow.step)
    value = read_field(context.services, need, message.text or "")
    data[need.value] = value.isoformat() if isinstance(value, dt.datetime) else value
    needs = MOVES[move].needs
    following = needs[needs.index(need) + 1 :]
    if following:
        await send(
            update,
            context,
            ask_text(context, data["case_id"], move, following[0]),
            keyboards.keyboard([keyboards.cancel(flow.stamp)]),
        )
        await save_flow(context, replace(flow, step=following[0].value, data=data))
        return
    fields = Fields(
        reason=data.get("reason", ""),
        plan=data.get("plan", ""),
        deadline=dt.datetime.fromisoformat(data["deadline"]) if "deadline" in data else None,
    )
    await make_move(update, context, int(data["case_id"]), move, fields)
    await end_flow(context, flow)


async def make_move(
    update: Update, context: Context, case_id: int, move: Move, fields: Fields
) -> None:
    """Make the move (once per update), then show the card as it now stands."""
    user = context.sender
    access = await case_access(context.services, user.id, case_id)
    if access is None:
        raise UserError("status/not_found", case_id=case_id)
    who = actor(context, access, user.id, user.full_name)
    await apply_move(context.services, case_id, move, who, fields, origin_key(context.update_id))
    await show_card(update, context, case_id)


# -- the resident's rating ----------------------------------------------------------------------


async def on_rating(update: Update, context: Context) -> None:
    """满意 / 基本满意 / 不满意 on a rectified case, by its author."""
    query, user, callback = context.press
    try:
        rating = Rating(callback.args[1])
        made = await rate_case(
            context.services,
            int(callback.args[0]),
            user.id,
            rating,
            origin_key(context.update_id),
        )
    except (ValueError, UserError) as refusal:
        template = refusal.template if isinstance(refusal, UserError) else "common/invalid_button"
        context_values = refusal.context if isinstance(refusal, UserError) else {}
        await answer(query, context.render(template, **context_values), alert=True)
        return
    await answer(query)
    await drop_buttons(context, *tapped(query))
    await send(
        update, context, context.render("case/rated", case_id=made.case.id, rating=rating.value)
    )


# -- photos and documents -----------------------------------------------------------------------


async def on_files_button(update: Update, context: Context) -> None:
    """Send a case's photos and documents to someone who may see the case."""
    query, user, callback = context.press
    services = context.services
    access = await case_access(services, user.id, int(callback.arg))
    if access is None:
        await answer(query, context.render("status/not_found", case_id=callback.arg), alert=True)
        return
    await answer(query)
    chat = update.effective_chat
    assert chat is not None
    case = access.case
    files = await case_store.case_attachments(services.db, case.id)
    for n, attachment in enumerate(files, start=1):
        caption = context.label(labels.FILE_CAPTION, number=case.id, n=n, total=len(files))
        method, field = (
            ("sendPhoto", "photo") if attachment.kind == "photo" else ("sendDocument", "document")
        )
        await api(
            context.bot, method, chat_id=chat.id, caption=caption, **{field: attachment.file_id}
        )
