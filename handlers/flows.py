"""Leaving, continuing and discarding flows.

A flow in progress (an opinion, an organiser's /record, the questions of a move) survives
every command and button that is not its own. Only /cancel, the flow's own Cancel button
(which names the run it belongs to) or its timeout end it; a command that would start
another flow asks first (:func:`handlers.common.ask_first`), and the answer comes here.
"""

from __future__ import annotations

from telegram import Update

from bot.chat import keyboards
from bot.chat.flows import kind_of
from bot.vocabulary import FlowKind
from handlers import cases, opinion
from handlers.common import answer, answer_and_edit, drop_buttons, end_flow, send, tapped
from handlers.context import Context


async def cancel(update: Update, context: Context) -> None:
    """/cancel: leave the flow at any step; nothing is filed."""
    flow = context.flow
    if flow is None:
        await send(
            update, context, context.render("opinion/nothing_to_cancel"), keyboards.main_menu()
        )
        return
    await drop_buttons(context, flow.prompt_chat_id, flow.prompt_msg_id)
    await send(update, context, context.render("opinion/cancelled"), keyboards.main_menu())
    await end_flow(context, flow)


async def cancel_button(update: Update, context: Context) -> None:
    """A flow's Cancel button: it ends the run of the flow it was shown with, and nothing
    else (one left over from an earlier run says so)."""
    query, _, callback = context.press
    flow = context.flow
    if flow is None or flow.stamp != int(callback.arg):
        await answer(query, context.render("opinion/closed"), alert=True)
        if flow is None or tapped(query)[1] != flow.prompt_msg_id:
            await drop_buttons(context, *tapped(query))  # a message of a flow long over
        return
    await answer_and_edit(
        query, context, context.render("opinion/cancelled"), keyboards.main_menu()
    )
    if flow.prompt_msg_id != tapped(query)[1]:
        await drop_buttons(context, flow.prompt_chat_id, flow.prompt_msg_id)
    await end_flow(context, flow)


async def on_resume(update: Update, context: Context) -> None:
    """The answer to "continue it, or discard it?": ``r:go:<stamp>:-`` continues the open
    flow; ``r:drop:<stamp>:<then>`` discards it and goes on to ``then``."""
    query, _, callback = context.press
    action, stamp, then = callback.args[0], int(callback.args[1]), callback.args[2]
    await answer(query)
    await drop_buttons(context, *tapped(query))
    flow = context.flow
    if action == "go":
        if flow is None or flow.stamp != stamp:
            await send(update, context, context.render("opinion/closed"))
            return
        await resume(update, context)
        return
    if action != "drop":
        await send(update, context, context.render("common/invalid_button"))
        return
    if flow is not None and flow.stamp == stamp:
        await end_flow(context, flow)
        context.flow = None
        if then == "-":
            await send(update, context, context.render("opinion/cancelled"), keyboards.main_menu())
            return
    await go_on(update, context, then)


async def resume(update: Update, context: Context) -> None:
    """Continue the open flow: ask its question again."""
    flow = context.flow
    assert flow is not None
    if kind_of(flow) is FlowKind.MOVE:
        await cases.ask_again(update, context, flow)
    else:
        await opinion.resume(update, context, flow)


async def go_on(update: Update, context: Context, then: str) -> None:
    """Start what the person asked for before they were asked about the open flow."""
    if then == FlowKind.OPINION:
        await opinion.begin(update, context)
    elif then == FlowKind.RECORD:
        await opinion.record(update, context)
    elif then.startswith("v."):
        await cases.start_move_by_name(update, context, then)
    elif context.flow is not None:
        await resume(update, context)
    else:
        await send(update, context, context.render("common/menu_hint"), keyboards.main_menu())


async def on_page(update: Update, context: Context) -> None:
    """Another page of a long list: the office picker, or a case list."""
    callback = context.press.button
    if callback.arg == "units":
        await opinion.on_button(update, context)
    else:
        await cases.on_list_button(update, context)
