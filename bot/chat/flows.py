"""Flows in progress (an opinion, an organiser's record, the questions of a move): what
each is called, and how one left alone ends by itself."""

from __future__ import annotations

import datetime as dt
import logging

from bot.chat import notify
from bot.db import drafts as draft_store
from bot.db.drafts import Draft
from bot.services import Services
from bot.vocabulary import TELEGRAM, Flow

log = logging.getLogger(__name__)


def flow_of(draft: Draft) -> Flow:
    """Which flow a draft belongs to (an opinion stored before flows had their own names
    is a record when it came through another channel than Telegram)."""
    if draft.flow == Flow.OPINION and draft.data.get("channel", TELEGRAM) != TELEGRAM:
        return Flow.RECORD
    return Flow(draft.flow)


async def expire(services: Services) -> int:
    """End the flows left alone too long, and tell each person so (through the outbox)."""
    now = services.clock.now()
    minutes = services.campaign.intake.draft_timeout_minutes
    async with services.db.transaction() as tx:
        expired = await draft_store.take_expired(tx, now - dt.timedelta(minutes=minutes))
        for draft in expired:
            key = f"expired:{draft.user_id}:{draft.stamp}"
            if draft.prompt_chat_id is not None and draft.prompt_msg_id is not None:
                await notify.take_buttons(
                    tx, services, draft.prompt_chat_id, draft.prompt_msg_id, f"{key}:buttons"
                )
            await notify.notify(
                tx, services, draft.user_id, "opinion/expired", key, values={"minutes": minutes}
            )
    if expired:
        log.info("%s unfinished flows ended after %s idle minutes", len(expired), minutes)
        services.outbox.wake()
    return len(expired)
