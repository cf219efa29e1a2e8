"""/status: a resident follows their own cases; the team and organisers see the card."""

from __future__ import annotations

from telegram import Update

from bot.args import parse_number
from bot.cases.access import case_access
from bot.chat import keyboards
from bot.db import cases as case_store
from handlers.cases import send_card
from handlers.common import answer, send
from handlers.context import Context

MAX_LISTED = 20


async def status(update: Update, context: Context) -> None:
    """/status lists your cases; /status N shows case N's history."""
    if not context.args:
        await list_cases(update, context)
        return
    number = parse_number(context.args[0].lstrip("#").removeprefix("No."))
    if number is None:
        await send(update, context, context.render("status/bad_number"))
        return
    await show_case(update, context, number)


async def list_cases(update: Update, context: Context) -> None:
    user = context.sender
    cases = await case_store.list_cases_by_author(context.services.db, user.id, MAX_LISTED)
    if not cases:
        await send(update, context, context.render("status/none"), keyboards.main_menu())
        return
    total = await case_store.count_cases_by_author(context.services.db, user.id)
    await send(
        update,
        context,
        context.render(
            "status/list", cases=context.reader().views(cases), total=total, shown=len(cases)
        ),
        keyboards.my_cases([c.id for c in cases]),
    )


async def show_case(update: Update, context: Context, case_id: int) -> None:
    """One case's card and history: the team's card for the unit's staff, its supervisors
    and organisers; the resident's view for its author; "not found" for everyone else."""
    user = context.sender
    services = context.services
    access = await case_access(services, user.id, case_id)
    if access is None:
        await send(update, context, context.render("status/not_found", case_id=case_id))
        return
    if access.team:
        await send_card(update, context, access)
        return
    case = access.case
    reader = context.reader()
    files = (
        keyboards.keyboard([keyboards.files_button(case.id, case.attachment_count)])
        if case.attachment_count
        else None
    )
    await send(
        update,
        context,
        context.render(
            "status/case",
            row=reader.view(case),
            history=reader.resident_history(await case_store.case_history(services.db, case_id)),
            organiser=access.identity,
        ),
        files,
    )


async def on_case_button(update: Update, context: Context) -> None:
    query, _, callback = context.press
    await answer(query)
    await show_case(update, context, int(callback.arg))
