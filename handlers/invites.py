"""/invite: organisers invite staff, supervisors and evaluators with single-use links."""

from __future__ import annotations

import re

from telegram import Update

from bot import roles as role_core
from handlers import team
from handlers.access import asker
from handlers.ballots import invite_evaluators
from handlers.common import send
from handlers.context import Context


async def invite(update: Update, context: Context) -> None:
    """/invite staff UNIT | supervisor [UNITS] | evaluator CATEGORY COUNT [UNITS]: single-use
    deep links (evaluators also get a printable sheet of QR codes)."""
    organiser = asker(update)
    campaign = context.services.campaign
    args = context.args or []
    usage = context.render(
        "team/invite_usage", unit_ids="、".join(u.label(context.lang) for u in campaign.units)
    )
    if args and args[0] == "evaluator":
        await invite_evaluators(update, context, args[1:])
        return
    if not args or args[0] not in ("staff", "supervisor"):
        await send(update, context, usage)
        return
    role = args[0]
    named = [u for part in args[1:] for u in re.split(r"[,，、]", part) if u]
    units = [campaign.find_unit(u).id for u in named]  # by name, part of it, or code
    if role == "staff" and len(units) != 1:
        await send(update, context, usage)
        return
    codes = await role_core.make_invites(context.services, organiser, role, units)
    await send(
        update,
        context,
        context.render("team/invites", links=[team.invite_link(context, c) for c in codes]),
    )
