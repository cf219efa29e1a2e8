"""The opinion flow in chat: unit → item → text → attachments → named or not → confirm
(an organiser's /record of an opinion that came offline asks first for its channel, and
for the person's name when named). See ``opinion.mmd`` beside this file.

The state of the flow is a row in the database, so a restart resumes it. Every step
first talks to Telegram and then commits the new state together with the update's applied
mark: a replay of an update whose state was committed goes no further than the gate; a
replay of one that was not committed simply does it again. Filing is the one step that
changes something else first: the case is filed once per update (by its key), then the
resident is answered, then the flow ends.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update

from bot.campaign import Named
from bot.cases import opinions
from bot.cases.opinions import Filer, Opinion
from bot.chat import keyboards, labels
from bot.chat.callbacks import Callback, Kind
from bot.chat.flows import kind_of
from bot.db.cases import Attachment
from bot.db.flows import Flow
from bot.errors import UserError
from bot.vocabulary import FlowKind, Role, Step
from handlers import cases
from handlers.common import (
    Posted,
    answer,
    answer_and_edit,
    ask_first,
    drop_buttons,
    end_flow,
    remove,
    save_flow,
    send,
    tapped,
)
from handlers.context import Context

log = logging.getLogger(__name__)

OPINIONS = (FlowKind.OPINION, FlowKind.RECORD)
SEARCH_MIN = 1  # characters of an office's name that find it at the office step


def prompt_text(context: Context, opinion: Opinion, notice: str = "", found: int = -1) -> str:
    """The question of the step an opinion is at, after an optional notice."""
    campaign = context.services.campaign
    unit = campaign.unit(opinion.unit_id) if opinion.unit_id else None
    item = campaign.item(opinion.item_id) if opinion.item_id else None
    return context.render(
        f"opinion/step_{opinion.step.value}",
        notice=notice,
        opinion=opinion,
        unit=unit,
        item=item,
        other=opinion.item_id == opinions.OTHER,
        resident=context.user_name,
        number=opinion.steps.index(opinion.step) + 1,
        steps=len(opinion.steps),
        channel=context.label(labels.CHANNELS.get(opinion.channel, opinion.channel)),
        limits=campaign.intake,
        offices=len(campaign.units),
        found=found,
    )


def step_keyboard(
    context: Context,
    opinion: Opinion,
    stamp: int,
    page: int = 0,
    found: list[Named] | None = None,
) -> keyboards.Keyboard:
    """The buttons of the step; at the office step, a page of offices (or those found)."""
    services = context.services
    if opinion.step is Step.UNIT and found is not None:
        return keyboards.offices(services.campaign, context.lang, 0, found) + keyboards.keyboard(
            [keyboards.cancel(stamp)]
        )
    return keyboards.opinion_step(
        opinion.step,
        offline=opinion.offline,
        attached=bool(opinion.attachments),
        stamp=stamp,
        campaign=services.campaign,
        lang=context.lang,
        page=page,
    )


async def commit(
    context: Context,
    user_id: int,
    opinion: Opinion,
    prompt: Posted | None,
    keep: Flow | None,
) -> None:
    """Store the opinion as of this update, with the message that now carries its buttons."""
    where = (
        (prompt.chat_id, prompt.message_id)
        if prompt is not None
        else (keep.prompt_chat_id, keep.prompt_msg_id)
        if keep is not None and keep.prompt_chat_id is not None and keep.prompt_msg_id is not None
        else None
    )
    started = keep.started_at if keep is not None and keep.started_at else context.started
    await save_flow(context, opinion.flow(user_id, where, started))


async def show(
    update: Update,
    context: Context,
    opinion: Opinion,
    notice: str = "",
    keep: Flow | None = None,
    found: list[Named] | None = None,
) -> None:
    """Send the step's question as a new message and commit the opinion with it.

    The question it replaces loses its buttons, so they cannot be pressed by mistake; the
    text step's question has only Cancel, which stays valid anywhere, so it is left as is.
    """
    user = context.sender
    if keep is not None and keep.step != Step.TEXT:
        await drop_buttons(context, keep.prompt_chat_id, keep.prompt_msg_id)
    stamp = keep.stamp if keep is not None and keep.started_at else context.stamp
    message = await send(
        update,
        context,
        prompt_text(context, opinion, notice, -1 if found is None else len(found)),
        step_keyboard(context, opinion, stamp, found=found),
    )
    await commit(context, user.id, opinion, message, keep)


# -- entering and leaving ---------------------------------------------------------------------


async def begin(update: Update, context: Context) -> None:
    """Start an opinion, or pick up the one in progress where it stopped."""
    await enter(update, context, Opinion(), FlowKind.OPINION)


async def record(update: Update, context: Context) -> None:
    """/record: an organiser records an opinion that came in offline (a visit, a forum, a
    mailbox, a letter), answering the questions a resident would (organisers only: declared
    where it is registered)."""
    await enter(update, context, opinions.offline(), FlowKind.RECORD)


async def enter(update: Update, context: Context, fresh: Opinion, kind: FlowKind) -> None:
    flow = context.flow
    if flow is None:
        await show(update, context, fresh)
    elif kind_of(flow) is kind:
        await resume(update, context, flow)
    else:
        await ask_first(update, context, flow, kind.value)


async def resume(update: Update, context: Context, flow: Flow) -> None:
    """Ask the question of the step the opinion stopped at, again."""
    await show(
        update, context, Opinion.from_flow(flow), context.render("opinion/resumed"), keep=flow
    )


# -- buttons ----------------------------------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    """A step's button: choose, go on, confirm."""
    query, user, callback = context.press
    flow = context.flow
    if flow is None or kind_of(flow) not in OPINIONS:
        await answer(query, context.render("opinion/closed"), alert=True)
        await drop_buttons(context, *tapped(query))
        return
    opinion = Opinion.from_flow(flow)
    try:
        if callback.kind is Kind.CONFIRM:
            await confirm(update, context, query, opinion, callback, flow)
            return
        if callback.kind is Kind.PAGE:
            await turn_page(query, context, opinion, flow, callback)
            return
        opinion = apply_button(context, opinion, callback)
    except UserError as refusal:
        # A button that does not fit the step the opinion is at belongs to an earlier one.
        # (One that fits is taken from any message: after a restart the same question may
        # have been asked twice.)
        template = (
            "opinion/stale_button"
            if refusal.template == "opinion/wrong_step"
            else (refusal.template)
        )
        await answer(query, context.render(template, **refusal.context), alert=True)
        return
    await answer_and_edit(
        query, context, prompt_text(context, opinion), step_keyboard(context, opinion, flow.stamp)
    )
    chat_id, message_id = tapped(query)
    here = Posted(chat_id, message_id) if chat_id is not None and message_id else None
    await commit(context, user.id, opinion, here, keep=flow)
    if flow.prompt_msg_id != message_id:
        # The question was asked again below (after a restart, or with a notice): that
        # copy is now out of date.
        await remove(context, flow.prompt_chat_id, flow.prompt_msg_id)


async def turn_page(
    query: CallbackQuery, context: Context, opinion: Opinion, flow: Flow, callback: Callback
) -> None:
    """Another page of offices: the same question, other choices (nothing is stored)."""
    if opinion.step is not Step.UNIT:
        raise UserError("opinion/wrong_step")
    page = int(callback.args[1])
    await answer_and_edit(
        query,
        context,
        prompt_text(context, opinion),
        step_keyboard(context, opinion, flow.stamp, page=page),
    )


def apply_button(context: Context, opinion: Opinion, callback: Callback) -> Opinion:
    campaign = context.services.campaign
    if callback.kind is Kind.UNIT:
        return opinions.choose_unit(opinion, campaign, callback.arg)
    if callback.kind is Kind.ITEM:
        return opinions.choose_item(opinion, campaign, callback.arg)
    if callback.kind is Kind.ATTACHED:
        return opinions.attachments_done(opinion)
    if callback.kind is Kind.IDENTITY and callback.arg in ("named", "anon"):
        return opinions.choose_identity(opinion, anonymous=callback.arg == "anon")
    if callback.kind is Kind.CHANNEL:
        return opinions.choose_channel(opinion, callback.arg)
    raise UserError("common/invalid_button")


async def confirm(
    update: Update,
    context: Context,
    query: CallbackQuery,
    opinion: Opinion,
    callback: Callback,
    flow: Flow,
) -> None:
    user = context.sender
    if opinion.step is not Step.CONFIRM:
        raise UserError("opinion/wrong_step")
    if callback.arg == "restart":
        fresh = opinions.offline() if opinion.offline else Opinion()
        await answer_and_edit(
            query, context, prompt_text(context, fresh), step_keyboard(context, fresh, flow.stamp)
        )
        chat_id, message_id = tapped(query)
        here = Posted(chat_id, message_id) if chat_id is not None and message_id else None
        await commit(context, user.id, fresh, here, keep=flow)
        return
    if callback.arg != "send":
        raise UserError("common/invalid_button")
    services = context.services
    if opinion.offline:
        if not services.is_organiser(user.id):
            raise UserError("case/not_allowed")
        filer = Filer(
            user.id, Role.ORGANISER, None, opinion.person, context.lang, None, opinion.channel
        )
        done = "opinion/recorded"
    else:
        source = context.person.source if context.person else None
        filer = Filer(user.id, Role.RESIDENT, user.id, user.full_name, context.lang, source)
        done = "opinion/filed"
    case_id, created = await opinions.file_opinion(services, opinion, filer, context.update_id)
    if created:
        log.info("case %s filed (unit %s)", case_id, opinion.unit_id)
    await answer_and_edit(
        query, context, context.render(done, case_id=case_id), keyboards.after_filing(case_id)
    )
    await end_flow(context, flow)


# -- messages ---------------------------------------------------------------------------------


async def on_message(update: Update, context: Context) -> None:
    """Anything typed or sent in a private chat that is not a command."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    flow = context.flow
    if flow is not None and kind_of(flow) is FlowKind.MOVE:
        await cases.on_field(update, context, flow)
        return
    if flow is None:
        await send(update, context, context.render("common/menu_hint"), keyboards.main_menu())
        return
    opinion = Opinion.from_flow(flow)
    if opinion.step is Step.UNIT and message.text and not message.text.startswith("/"):
        await search_office(update, context, opinion, flow, message.text)
        return
    campaign = context.services.campaign
    notice = ""
    try:
        attachment = attachment_of(message)
        if attachment is not None:
            first_of_album = not (
                message.media_group_id and message.media_group_id in opinion.media_groups
            )
            updated = opinions.add_attachment(
                opinion,
                campaign,
                attachment,
                message.message_id,
                message.caption,
                message.media_group_id,
            )
            if not first_of_album:  # the album's first photo already answered
                await commit(context, user.id, updated, None, keep=flow)
                return
            notice = context.render(
                "opinion/attachment_added",
                count=len(updated.attachments),
                limit=campaign.intake.max_attachments,
                need_text=updated.step is Step.TEXT,
            )
        elif message.text is not None and opinion.step is Step.NAME:
            updated = opinions.give_name(opinion, message.text)
        elif message.text is not None:
            updated = opinions.add_text(opinion, campaign, message.message_id, message.text)
        else:
            raise UserError("opinion/unsupported_message")
    except UserError as refusal:
        if refusal.template == "opinion/wrong_step":
            refusal = UserError("opinion/use_buttons")
        await show(
            update,
            context,
            opinion,
            context.render(refusal.template, **refusal.context),
            keep=flow,
        )
        return
    await show(update, context, updated, notice, keep=flow)


async def search_office(
    update: Update, context: Context, opinion: Opinion, flow: Flow, typed: str
) -> None:
    """At the office step, typed text finds offices by their name: one found is chosen; a
    few are offered as buttons; none, or too many, say so and show the list again."""
    found = opinions.find_units(context.services.campaign, typed)
    if len(found) == 1:
        chosen = opinions.choose_unit(opinion, context.services.campaign, found[0].id)
        notice = context.render("opinion/office_found", name=found[0].label(context.lang))
        await show(update, context, chosen, notice, keep=flow)
        return
    shown = found[: keyboards.PAGE] if found else None
    notice = context.render("opinion/office_search", typed=typed[:40], count=len(found))
    await show(update, context, opinion, notice, keep=flow, found=shown)


def attachment_of(message: Message) -> Attachment | None:
    if message.photo:
        largest = message.photo[-1]
        return Attachment("photo", largest.file_id, largest.file_unique_id)
    if message.document:
        d = message.document
        return Attachment("document", d.file_id, d.file_unique_id, d.file_name)
    return None


async def on_edited(update: Update, context: Context) -> None:
    """An edited message: if it is part of the text being written, take the new wording."""
    message = update.edited_message
    assert message is not None
    flow = context.flow
    if flow is None or kind_of(flow) not in OPINIONS:
        await send(update, context, context.render("opinion/edit_ignored"))
        return
    opinion = Opinion.from_flow(flow)
    try:
        updated = opinions.edit_text(
            opinion, context.services.campaign, message.message_id, message.text or ""
        )
    except UserError as refusal:
        if refusal.template == "opinion/edit_not_in_draft":
            await send(update, context, context.render("opinion/edit_ignored"))
            return
        await show(
            update,
            context,
            opinion,
            context.render(refusal.template, **refusal.context),
            keep=flow,
        )
        return
    await show(update, context, updated, context.render("opinion/text_edited"), keep=flow)
