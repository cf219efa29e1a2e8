"""Flows in progress (an opinion, an organiser's record, the questions of a move): what
each is called, and how one left alone ends by itself."""

from __future__ import annotations

import datetime as dt
import logging

from bot.chat import notify
from bot.db import flows as flow_store
from bot.db.flows import Flow
from bot.services import Services
from bot.vocabulary import TELEGRAM, FlowKind

log = logging.getLogger(__name__)


def kind_of(flow: Flow) -> FlowKind:
    """Which kind of flow it is (an opinion stored before flows had their own names
    is a record when it came through another channel than Telegram)."""
    if flow.kind == FlowKind.OPINION and flow.data.get("channel", TELEGRAM) != TELEGRAM:
        return FlowKind.RECORD
    return FlowKind(flow.kind)


async def expire(services: Services) -> int:
    """End the flows left alone too long, and tell each person so (through the outbox)."""
    now = services.clock.now()
    minutes = services.campaign.intake.draft_timeout_minutes
    async with services.db.transaction() as tx:
        expired = await flow_store.take_expired(tx, now - dt.timedelta(minutes=minutes))
        for flow in expired:
            key = f"expired:{flow.user_id}:{flow.stamp}"
            if flow.prompt_chat_id is not None and flow.prompt_msg_id is not None:
                await notify.take_buttons(
                    tx, services, flow.prompt_chat_id, flow.prompt_msg_id, f"{key}:buttons"
                )
            await notify.notify(
                tx, services, flow.user_id, "opinion/expired", key, values={"minutes": minutes}
            )
    if expired:
        log.info("%s unfinished flows ended after %s idle minutes", len(expired), minutes)
        services.outbox.wake()
    return len(expired)
