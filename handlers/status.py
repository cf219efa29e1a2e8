"""/status: a resident follows their own cases; organisers may look at any case."""

from __future__ import annotations

from telegram import Update

from bot import labels
from bot.callbacks import decode
from bot.db import cases as case_store
from bot.db.cases import Case
from handlers import keyboards
from handlers.common import answer, send
from handlers.context import Context

MAX_LISTED = 20


def state_label(context: Context, state: str) -> str:
    return context.label(labels.STATES.get(state, state))


async def status(update: Update, context: Context) -> None:
    """/status lists your cases; /status N shows case N's history."""
    if not context.args:
        await list_cases(update, context)
        return
    number = context.args[0].lstrip("#").removeprefix("No.").strip()
    if not number.isdigit() or len(number) > 9:
        await send(update, context, context.render("status/bad_number"))
        return
    await show_case(update, context, int(number))


async def list_cases(update: Update, context: Context) -> None:
    user = update.effective_user
    assert user is not None
    cases = await case_store.list_cases_by_author(context.services.db, user.id, MAX_LISTED)
    if not cases:
        await send(update, context, context.render("status/none"), keyboards.main_menu(context))
        return
    total = await case_store.count_cases_by_author(context.services.db, user.id)
    await send(
        update,
        context,
        context.render(
            "status/list", cases=describe(context, cases), total=total, shown=len(cases)
        ),
        keyboards.cases_keyboard(context, cases),
    )


def describe(context: Context, cases: list[Case]) -> list[dict[str, object]]:
    campaign = context.services.campaign
    rows = []
    for case in cases:
        unit = campaign.unit(case.unit_id)
        item = campaign.item(case.item_id) if case.item_id else None
        rows.append(
            {
                "case": case,
                "unit": unit.label(context.lang) if unit else case.unit_id,
                "item": item.label(context.lang) if item else context.label(labels.OTHER_ITEM),
                "state": state_label(context, case.state),
            }
        )
    return rows


async def show_case(update: Update, context: Context, case_id: int) -> None:
    """One case's card and history, to its author and to organisers only."""
    user = update.effective_user
    assert user is not None
    services = context.services
    case = await case_store.get_case(services.db, case_id)
    organiser = services.is_organiser(user.id)
    if case is None or (case.author_id != user.id and not organiser):
        await send(update, context, context.render("status/not_found", case_id=case_id))
        return
    history = await case_store.case_history(services.db, case_id)
    [row] = describe(context, [case])
    await send(
        update,
        context,
        context.render(
            "status/case",
            row=row,
            history=[
                {
                    "event": e,
                    "state": state_label(context, e.to_state),
                    "role": context.label(labels.ROLES.get(e.actor_role, e.actor_role)),
                }
                for e in history
            ],
            organiser=organiser,
            channel=context.label(labels.CHANNELS.get(case.channel, case.channel)),
        ),
    )


async def on_case_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    callback = decode(query.data)
    assert callback is not None
    await answer(query)
    await show_case(update, context, int(callback.arg))
