"""Organisers' commands for the team: invites for staff and supervisors."""

from __future__ import annotations

from telegram import Update

from bot import labels, roles
from bot.db.roles import ALL_UNITS
from bot.errors import UserError
from handlers.common import send
from handlers.context import Context


async def require_organiser(update: Update, context: Context) -> int:
    user = update.effective_user
    assert user is not None
    if not context.services.is_organiser(user.id):
        raise UserError("case/not_allowed")
    return user.id


def invite_link(context: Context, code: str) -> str:
    return f"https://t.me/{context.bot.username}?start={code}"


async def invite(update: Update, context: Context) -> None:
    """/invite staff UNIT | /invite supervisor [UNIT,UNIT…]: a single-use deep link."""
    organiser = await require_organiser(update, context)
    campaign = context.services.campaign
    unit_ids = [u.id for u in campaign.units]
    args = context.args or []
    usage = context.render("team/invite_usage", unit_ids=", ".join(unit_ids))
    if not args or args[0] not in ("staff", "supervisor"):
        await send(update, context, usage)
        return
    role = args[0]
    units = [u for part in args[1:] for u in part.split(",") if u]
    if any(u not in unit_ids for u in units) or (role == "staff" and len(units) != 1):
        await send(update, context, usage)
        return
    codes = await roles.make_invites(context.services, organiser, role, units)
    await send(
        update,
        context,
        context.render("team/invites", links=[invite_link(context, c) for c in codes]),
    )


def units_label(context: Context, units: tuple[str, ...]) -> str:
    campaign = context.services.campaign
    if not units or units == (ALL_UNITS,):
        return context.label(labels.ALL_OFFICES)
    names = [u.label(context.lang) for u in campaign.units if u.id in units]
    return "、".join(names) if context.lang == "zh" else ", ".join(names)
