"""The gate every update passes before any handler (registered at ``group=-1``, as PTB's
rules-bot registers its per-update checks).

It is the one home of the per-update bookkeeping:

- the person is recorded (name, language), once per update and only when it changed;
- an update applied already (a replay after a restart) goes no further: its effects and
  its answer were committed together with the person's applied mark;
- a pressed button's data is read once (``context.button``; ``context.press``);
- the flow the person is in is read once, for every handler (``context.flow``);
- a button pressed on a message the bot cannot see (an inline message) is answered here.

No handler repeats any of this.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.chat.callbacks import decode
from bot.db import users as user_store
from bot.db.users import Profile
from bot.runtime.processor import lane_of
from handlers.common import answer
from handlers.context import Context

log = logging.getLogger(__name__)


async def admit(update: Update, context: Context) -> None:
    """Read a pressed button's data, record the person, stop replays, read the flow in
    progress."""
    query = update.callback_query
    if query is not None and isinstance(query.data, str):
        context.button = decode(query.data)
    user = update.effective_user
    if user is None or user.is_bot or lane_of(update) != user.id:
        return  # channel posts, group chatter: nobody's flow, nothing to replay
    services = context.services
    seen = await user_store.seen(services.db, user.id)
    if seen.is_replay(update.update_id):
        log.debug("update %s was applied before a restart; not again", update.update_id)
        raise ApplicationHandlerStop
    profile = Profile(
        user.id, user.first_name, user.last_name or "", user.username or "", context.lang
    )
    if seen.differs(profile):
        await user_store.record_user(services.db, profile, services.clock.now())
    context.flow = seen.flow
    context.person = seen.user
    if query is not None and query.message is None:
        # pressed on an inline message (or one too old to be sent along): there is no chat
        # to answer in, so the pop-up says it
        await answer(query, context.render("common/invalid_button"), alert=True)
        raise ApplicationHandlerStop
