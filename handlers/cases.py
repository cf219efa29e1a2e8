"""Cases for the people who handle them: lists, the case card with the moves a role may
make, the questions a move needs, and the resident's rating.

What a card shows depends on who looks: the unit's staff and supervisors never see an
anonymous resident's name; organisers see everything; a resident sees their own case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from telegram import Update

from bot import labels
from bot.callbacks import decode
from bot.cases import (
    MOVES,
    OPEN_STATES,
    Actor,
    CaseState,
    Fields,
    Move,
    Need,
    Rating,
    allowed_moves,
    apply_move,
    check_move,
    parse_deadline,
    rate_case,
)
from bot.db import cases as case_store
from bot.db import drafts as draft_store
from bot.db.cases import Case
from bot.db.drafts import Draft
from bot.errors import UserError
from bot.roles import Roles, roles_of
from handlers import keyboards
from handlers.common import (
    answer,
    api,
    describe,
    drop_buttons,
    progress,
    send,
    state_label,
)
from handlers.context import Context

FLOW = "move"
LISTED = 20


def days_old(case: Case, now: dt.datetime) -> int:
    return max(0, (now - case.filed_at).days)


def overdue(case: Case, now: dt.datetime) -> bool:
    return case.due_at is not None and case.state != CaseState.CLOSED and case.due_at < now


# -- lists ------------------------------------------------------------------------------------


async def list_command(update: Update, context: Context) -> None:
    """/cases [all|overdue|UNIT]: the cases of the units you handle or supervise."""
    await show_list(update, context, context.args[0] if context.args else "open")


async def overdue_command(update: Update, context: Context) -> None:
    """/overdue: cases past their deadline, for supervisors, staff and organisers."""
    await show_list(update, context, "overdue")


async def on_list_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    callback = decode(query.data)
    assert callback is not None
    await answer(query)
    await show_list(update, context, callback.arg)


async def show_list(update: Update, context: Context, which: str) -> None:
    user = update.effective_user
    assert user is not None
    services = context.services
    roles = await roles_of(services, user.id)
    if not roles.team:
        raise UserError("case/not_allowed")
    all_units = [u.id for u in services.campaign.units]
    units = roles.units(all_units)
    if which in all_units:
        if which not in units:
            raise UserError("case/not_allowed")
        units, which = [which], "open"
    now = services.clock.now()
    if which == "overdue":
        cases = [c for c in await case_store.due_before(services.db, now) if c.unit_id in units]
    else:
        states = None if which == "all" else sorted(OPEN_STATES)
        cases = await case_store.list_cases(services.db, units, states, LISTED)
    titles = {"all": labels.LIST_ALL, "overdue": labels.LIST_OVERDUE}
    rows = [
        replace(row, age=days_old(row.case, now), overdue=overdue(row.case, now))
        for row in describe(context, cases[:LISTED])
    ]
    await send(
        update,
        context,
        context.render(
            "team/cases", title=context.label(titles.get(which, labels.LIST_OPEN)), rows=rows
        ),
        keyboards.team_cases_keyboard(context, cases[:LISTED]),
    )


# -- the card ---------------------------------------------------------------------------------


async def show_card(update: Update, context: Context, case_id: int) -> bool:
    """The case card for the unit's team or an organiser, with the moves they may make.
    Returns False when the person is not on the case's team (the caller decides)."""
    user = update.effective_user
    assert user is not None
    services = context.services
    case = await case_store.get_case(services.db, case_id)
    if case is None:
        return False
    roles = await roles_of(services, user.id)
    if not roles.sees_unit(case.unit_id):
        return False
    history = await case_store.case_history(services.db, case_id)
    [row] = describe(context, [case])
    now = services.clock.now()
    steps = []
    for event in history:
        role = context.label(labels.ROLES.get(event.actor_role, event.actor_role))
        steps.append({"event": event, "state": state_label(context, event.to_state), "role": role})
    text = context.render(
        "case/card",
        case=case,
        state=row.state,
        unit=row.unit,
        item=row.item,
        outcome=context.label(labels.OUTCOMES[case.outcome]) if case.outcome else "",
        overdue=overdue(case, now),
        show_channel=roles.organiser,
        show_identity=roles.organiser,
        history=steps,
        channel=context.label(labels.CHANNELS.get(case.channel, case.channel)),
        rating=context.label(labels.RATINGS.get(case.rating or "", case.rating or "")),
    )
    moves = allowed_moves(case, roles.for_unit(case.unit_id))
    await send(update, context, text, keyboards.moves_keyboard(context, case, moves))
    return True


# -- moves ------------------------------------------------------------------------------------


async def actor_for(context: Context, user_id: int, name: str, unit_id: str) -> tuple[Actor, Roles]:
    roles = await roles_of(context.services, user_id)
    return Actor(user_id, roles.for_unit(unit_id), name), roles


async def on_move_button(update: Update, context: Context) -> None:
    """A move's button on a case card: make it, or ask for what it needs first."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    callback = decode(query.data)
    assert callback is not None
    _, applied = await progress(context, user.id)
    if applied:
        return
    case_id, move_name = int(callback.args[0]), callback.args[1]
    try:
        move = Move(move_name)
    except ValueError:
        await answer(query, context.render("common/invalid_button"), alert=True)
        return
    case = await case_store.get_case(context.services.db, case_id)
    if case is None:
        await answer(query, context.render("status/not_found", case_id=case_id), alert=True)
        return
    actor, _ = await actor_for(context, user.id, user.full_name, case.unit_id)
    try:
        spec = check_move(case, move, actor)
    except UserError as refusal:
        await answer(query, context.render(refusal.template, **refusal.context), alert=True)
        return
    await answer(query)
    if not spec.needs:
        await make_move(update, context, case_id, move, Fields())
        return
    draft = Draft(
        user.id,
        FLOW,
        spec.needs[0].value,
        {"case_id": case_id, "move": move.value},
        last_update_id=context.update_id,
    )
    await send(update, context, ask_text(context, case_id, move, spec.needs[0]))
    async with context.services.db.single() as tx:
        await draft_store.save_draft(tx, draft, context.services.clock.now())


def ask_text(context: Context, case_id: int, move: Move, need: Need) -> str:
    return context.render(
        "case/ask_field",
        case_id=case_id,
        move=move.value,
        need=need.value,
        label=context.label(MOVES[move].label),
    )


async def on_field(update: Update, context: Context, draft: Draft) -> None:
    """An answer to what a move needs (a reason, a plan, a deadline)."""
    message = update.effective_message
    assert message is not None
    if not message.text or not message.text.strip():
        raise UserError("opinion/need_text")
    data: dict[str, Any] = dict(draft.data)
    move, need = Move(data["move"]), Need(draft.step)
    services = context.services
    text = message.text.strip()
    if need is Need.DEADLINE:
        deadline = parse_deadline(text, services.clock.now(), services.campaign.tz)
        if deadline is None:
            raise UserError("case/bad_deadline")
        data["deadline"] = deadline.isoformat()
    else:
        if len(text) > services.campaign.intake.max_text:
            raise UserError(
                "opinion/too_long",
                limit=services.campaign.intake.max_text,
                length=len(text),
                sent=len(text),
                kept=0,
            )
        data[need.value] = text
    needs = MOVES[move].needs
    following = needs[needs.index(need) + 1 :]
    if following:
        await send(update, context, ask_text(context, data["case_id"], move, following[0]))
        async with services.db.single() as tx:
            await draft_store.save_draft(
                tx,
                Draft(
                    draft.user_id, FLOW, following[0].value, data, last_update_id=context.update_id
                ),
                services.clock.now(),
            )
        return
    fields = Fields(
        reason=data.get("reason", ""),
        plan=data.get("plan", ""),
        deadline=dt.datetime.fromisoformat(data["deadline"]) if "deadline" in data else None,
    )
    await make_move(update, context, int(data["case_id"]), move, fields)


async def make_move(
    update: Update, context: Context, case_id: int, move: Move, fields: Fields
) -> None:
    user = update.effective_user
    assert user is not None
    case = await case_store.get_case(context.services.db, case_id)
    if case is None:
        raise UserError("status/not_found", case_id=case_id)
    actor, _ = await actor_for(context, user.id, user.full_name, case.unit_id)
    await apply_move(context.services, case_id, move, actor, fields, context.update_id)
    await show_card(update, context, case_id)


# -- the resident's rating ----------------------------------------------------------------------


async def on_rating(update: Update, context: Context) -> None:
    """满意 / 基本满意 / 不满意 on a rectified case, by its author."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    callback = decode(query.data)
    assert callback is not None
    _, applied = await progress(context, user.id)
    if applied:
        return
    try:
        rating = Rating(callback.args[1])
        case = await rate_case(
            context.services, int(callback.args[0]), user.id, rating, context.update_id
        )
    except (ValueError, UserError) as refusal:
        template = refusal.template if isinstance(refusal, UserError) else "common/invalid_button"
        context_values = refusal.context if isinstance(refusal, UserError) else {}
        await answer(query, context.render(template, **context_values), alert=True)
        return
    await answer(query)
    message = query.message
    await drop_buttons(
        context, message.chat.id if message else None, message.message_id if message else None
    )
    await send(update, context, context.render("case/rated", case_id=case.id, rating=rating.value))


# -- photos and documents -----------------------------------------------------------------------


async def on_files_button(update: Update, context: Context) -> None:
    """Send a case's photos and documents to someone who may see the case."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    callback = decode(query.data)
    assert callback is not None
    services = context.services
    case = await case_store.get_case(services.db, int(callback.arg))
    roles = await roles_of(services, user.id)
    if case is None or not (case.author_id == user.id or roles.sees_unit(case.unit_id)):
        await answer(query, context.render("status/not_found", case_id=callback.arg), alert=True)
        return
    await answer(query)
    chat = update.effective_chat
    assert chat is not None
    files = await case_store.case_attachments(services.db, case.id)
    for n, attachment in enumerate(files, start=1):
        caption = context.label(labels.FILE_CAPTION, number=case.id, n=n, total=len(files))
        method, field = (
            ("sendPhoto", "photo") if attachment.kind == "photo" else ("sendDocument", "document")
        )
        await api(
            context.bot, method, chat_id=chat.id, caption=caption, **{field: attachment.file_id}
        )
