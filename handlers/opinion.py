"""The opinion flow in chat: unit → item → text → attachments → named or not → confirm.

The state of the flow is a draft row in the database (see ``opinion.mmd`` beside this
file), so a restart resumes it and a replayed update is recognised by its id. Every step
first talks to Telegram and then commits the new state with the update's id: a replay of
an update whose state was committed changes nothing and sends nothing again; a replay of
one that was not committed simply does it.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update

from bot import labels, opinions
from bot.callbacks import Callback, Kind, decode
from bot.cases import Role
from bot.db import cases as case_store
from bot.db import drafts as draft_store
from bot.db import users as user_store
from bot.db.cases import Attachment
from bot.db.drafts import Draft
from bot.errors import UserError
from bot.opinions import FLOW, Filer, Opinion, Step, origin_key
from handlers import cases, keyboards
from handlers.common import (
    Posted,
    answer,
    answer_and_edit,
    drop_buttons,
    progress,
    remove,
    send,
)
from handlers.context import Context

log = logging.getLogger(__name__)


def prompt_text(context: Context, opinion: Opinion, notice: str = "") -> str:
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
    )


async def current(context: Context, user_id: int) -> Draft | None:
    """The user's opinion in progress, if any."""
    draft = await draft_store.get_draft(context.services.db, user_id)
    return draft if draft is not None and draft.flow == FLOW else None


async def end(context: Context, user_id: int) -> None:
    async with context.services.db.transaction() as tx:
        await draft_store.end_draft(tx, user_id, context.update_id, context.services.clock.now())


async def commit(
    context: Context,
    user_id: int,
    opinion: Opinion,
    prompt: Posted | None,
    keep: Draft | None = None,
) -> None:
    """Store the opinion as of this update, with the message that now carries its buttons."""
    where = (
        (prompt.chat_id, prompt.message_id)
        if prompt is not None
        else (keep.prompt_chat_id, keep.prompt_msg_id)
        if keep is not None and keep.prompt_chat_id is not None and keep.prompt_msg_id is not None
        else None
    )
    async with context.services.db.single() as tx:  # one statement: commits on its own
        await draft_store.save_draft(
            tx, opinion.draft(user_id, context.update_id, where), context.services.clock.now()
        )


async def show(
    update: Update, context: Context, opinion: Opinion, notice: str = "", keep: Draft | None = None
) -> None:
    """Send the step's question as a new message and commit the opinion with it.

    The question it replaces loses its buttons, so they cannot be pressed by mistake; the
    text step's question has only Cancel, which stays valid anywhere, so it is left as is.
    """
    user = update.effective_user
    assert user is not None
    if keep is not None and keep.step != Step.TEXT:
        await drop_buttons(context, keep.prompt_chat_id, keep.prompt_msg_id)
    message = await send(
        update,
        context,
        prompt_text(context, opinion, notice),
        keyboards.step_keyboard(context, opinion),
    )
    await commit(context, user.id, opinion, message)


# -- entering and leaving ---------------------------------------------------------------------


async def begin(update: Update, context: Context) -> None:
    """Start an opinion, or pick up the one in progress where it stopped."""
    user = update.effective_user
    assert user is not None
    draft, applied = await progress(context, user.id, FLOW)
    if applied:
        return
    if draft is not None:
        resumed = context.render("opinion/resumed")
        await show(update, context, Opinion.from_draft(draft), resumed, keep=draft)
        return
    await show(update, context, Opinion())


async def record(update: Update, context: Context) -> None:
    """/record: an organiser records an opinion that came in offline (a visit, a forum, a
    mailbox, a letter), answering the questions a resident would."""
    user = update.effective_user
    assert user is not None
    if not context.services.is_organiser(user.id):
        raise UserError("case/not_allowed")
    draft, applied = await progress(context, user.id, FLOW)
    if applied:
        return
    if draft is not None:
        resumed = context.render("opinion/resumed")
        await show(update, context, Opinion.from_draft(draft), resumed, keep=draft)
        return
    await show(update, context, opinions.offline())


async def cancel(update: Update, context: Context) -> None:
    """/cancel: leave the flow at any step; nothing is filed."""
    user = update.effective_user
    assert user is not None
    draft, applied = await progress(context, user.id)
    if applied:
        return
    menu = keyboards.main_menu(context)
    if draft is None:
        await send(update, context, context.render("opinion/nothing_to_cancel"), menu)
        return
    await drop_buttons(context, draft.prompt_chat_id, draft.prompt_msg_id)
    await send(update, context, context.render("opinion/cancelled"), menu)
    await end(context, user.id)


async def cancel_button(update: Update, context: Context) -> None:
    """The Cancel button, on whatever step's message it was pressed."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    draft, applied = await progress(context, user.id)
    if applied:
        return
    await answer_and_edit(
        query,
        context.render("opinion/cancelled" if draft is not None else "opinion/nothing_to_cancel"),
        keyboards.main_menu(context),
    )
    if draft is not None:
        if draft.prompt_msg_id != (query.message.message_id if query.message else None):
            await drop_buttons(context, draft.prompt_chat_id, draft.prompt_msg_id)
        await end(context, user.id)


# -- buttons ----------------------------------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    """A step's button: choose, go on, confirm."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    callback = decode(query.data)
    assert callback is not None  # the handler's pattern admits only our kinds
    if callback.kind is Kind.CONFIRM and callback.arg == "send":
        filed = await case_store.find_case_by_origin(
            context.services.db, origin_key(context.update_id)
        )
        if filed is not None:  # a replay of a confirmation already filed
            await answer_and_edit(
                query,
                context.render("opinion/filed", case_id=filed),
                keyboards.after_filing(context, filed),
            )
            return
    draft, applied = await progress(context, user.id, FLOW)
    if applied:
        return  # already applied before a restart; its answer was sent then
    if draft is None:
        await answer(query, context.render("opinion/closed"), alert=True)
        await drop_buttons(
            context,
            query.message.chat.id if query.message else None,
            query.message.message_id if query.message else None,
        )
        return
    opinion = Opinion.from_draft(draft)
    try:
        if callback.kind is Kind.CONFIRM:
            await confirm(update, context, query, opinion, callback)
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
        query, prompt_text(context, opinion), keyboards.step_keyboard(context, opinion)
    )
    await commit(context, user.id, opinion, tapped(query), keep=draft)
    if draft.prompt_msg_id != (query.message.message_id if query.message else None):
        # The question was asked again below (after a restart, or with a notice): that
        # copy is now out of date.
        await remove(context, draft.prompt_chat_id, draft.prompt_msg_id)


def tapped(query: CallbackQuery) -> Posted | None:
    """The message whose button was pressed (it now carries the next question)."""
    message = query.message
    return Posted(message.chat.id, message.message_id) if message is not None else None


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
    update: Update, context: Context, query: CallbackQuery, opinion: Opinion, callback: Callback
) -> None:
    user = update.effective_user
    assert user is not None
    if opinion.step is not Step.CONFIRM:
        raise UserError("opinion/wrong_step")
    if callback.arg == "restart":
        fresh = Opinion()
        await answer_and_edit(
            query, prompt_text(context, fresh), keyboards.step_keyboard(context, fresh)
        )
        await commit(context, user.id, fresh, tapped(query))
        return
    if callback.arg != "send":
        raise UserError("common/invalid_button")
    services = context.services
    now = services.clock.now()
    if opinion.offline:
        if not services.is_organiser(user.id):
            raise UserError("case/not_allowed")
        recorder = Filer(
            user.id, Role.ORGANISER, None, opinion.person, context.lang, None, opinion.channel
        )
        case_id, _ = await opinions.file_opinion(services, opinion, recorder, context.update_id)
        await answer_and_edit(
            query,
            context.render("opinion/recorded", case_id=case_id),
            keyboards.after_filing(context, case_id),
        )
        return
    async with services.db.transaction() as tx:
        await user_store.save_user(
            tx,
            user.id,
            user.first_name,
            user.last_name or "",
            user.username or "",
            context.lang,
            now,
        )
    profile = await user_store.get_user(services.db, user.id)
    filer = Filer(
        user.id,
        Role.RESIDENT,
        user.id,
        user.full_name,
        context.lang,
        profile.source if profile else None,
    )
    case_id, _ = await opinions.file_opinion(services, opinion, filer, context.update_id)
    log.info("case %s filed (unit %s)", case_id, opinion.unit_id)
    await answer_and_edit(
        query,
        context.render("opinion/filed", case_id=case_id),
        keyboards.after_filing(context, case_id),
    )


# -- messages ---------------------------------------------------------------------------------


async def on_message(update: Update, context: Context) -> None:
    """Anything typed or sent in a private chat that is not a command."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    draft, applied = await progress(context, user.id)
    if applied:
        return
    if draft is not None and draft.flow == cases.FLOW:
        await cases.on_field(update, context, draft)
        return
    if draft is None:
        menu = keyboards.main_menu(context)
        await send(update, context, context.render("common/menu_hint"), menu)
        return
    opinion = Opinion.from_draft(draft)
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
                await commit(context, user.id, updated, None, keep=draft)
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
            keep=draft,
        )
        return
    await show(update, context, updated, notice, keep=draft)


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
    user = update.effective_user
    assert message is not None and user is not None
    draft, applied = await progress(context, user.id, FLOW)
    if applied:
        return
    if draft is None:
        await send(update, context, context.render("opinion/edit_ignored"))
        return
    opinion = Opinion.from_draft(draft)
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
            keep=draft,
        )
        return
    await show(update, context, updated, context.render("opinion/text_edited"), keep=draft)
