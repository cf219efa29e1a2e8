"""Organisers' commands about the offices: findings from outside the bot (/finding), the
per-office summary of cases and deductions (/summary), hot issues (/hot) and the
spreadsheets (/export); and what the other organiser commands share (the organiser
check, invitation links, the names of a set of offices)."""

from __future__ import annotations

from urllib.parse import urlencode

from telegram import Update

from bot import roles
from bot.args import parse_number
from bot.cases import digest
from bot.cases.hot import hot_issues
from bot.chat import labels, notify
from bot.console import auth
from bot.errors import UserError
from bot.results.export import cases_workbook, results_workbook
from bot.results.findings import record_finding, summaries
from bot.roles import roles_of
from bot.vocabulary import read_ref, read_severity
from handlers.access import asker
from handlers.common import send, send_file
from handlers.context import Context
from scoring import fmt


def invite_link(context: Context, code: str) -> str:
    return roles.invite_link(context.bot.username, code)


def units_label(context: Context, units: tuple[str, ...]) -> str:
    services = context.services
    return labels.offices_named(services.campaign, services.texts, context.lang, units)


async def finding(update: Update, context: Context) -> None:
    """/finding UNIT general|punished REF [text]: a substantiated problem found outside."""
    organiser = asker(update)
    services = context.services
    unit_ids = "、".join(u.label(context.lang) for u in services.campaign.units)
    args = context.args or []
    if len(args) < 3:
        await send(update, context, context.render("findings/usage", unit_ids=unit_ids))
        return
    unit_id = services.campaign.find_unit(args[0]).id
    severity = read_severity(args[1]) or args[1]
    ref = read_ref(args[2])  # 17, 第17号: the bot's case 17
    text = " ".join(args[3:])
    try:
        await record_finding(
            services, organiser, unit_id, severity, ref, text, f"update:{context.update_id}"
        )
    except UserError as refusal:
        await send(
            update,
            context,
            context.render(refusal.template, **{"unit_ids": unit_ids, **refusal.context}),
        )
        return
    summary = next(s for s in await summaries(services, context.lang) if s.unit_id == unit_id)
    await send(
        update,
        context,
        context.render(
            "findings/recorded",
            ref=services.texts.ref(context.lang, ref),
            unit=summary.name,
            severity=context.label(labels.OUTCOMES[severity]),
            score=fmt(summary.complaint.score),
            deductions=fmt(summary.complaint.deductions),
        ),
    )


EVERY_WORDS = {
    "each": digest.EACH,
    "逐件": digest.EACH,
    "hourly": digest.HOURLY,
    "每小时": digest.HOURLY,
    "daily": digest.DAILY,
    "每天": digest.DAILY,
}


async def newcases(update: Update, context: Context) -> None:
    """/newcases [each|hourly|daily|MINUTES]: new cases one message each, or a digest of
    them every so often (the default follows the campaign's size)."""
    services = context.services
    organiser = context.sender.id
    args = context.args or []
    if args:
        word = args[0].casefold()
        minutes = EVERY_WORDS.get(word, parse_number(word, digest.LEAST, digest.MOST))
        if minutes is None:
            await send(update, context, context.render("team/newcases_usage"))
            return
        await digest.choose(services, organiser, minutes)
    await send(
        update,
        context,
        context.render(
            "team/newcases",
            every=await digest.every(services, organiser),
            default=digest.default_every(services),
            changed=bool(args),
        ),
    )


async def summary(update: Update, context: Context) -> None:
    """/summary: per office, open, overdue and reopened cases and the deductions (the plan's
    accountability for offices with many problems or poor rectification)."""
    rows = []
    for s in await summaries(context.services, context.lang):
        cases = "、" if context.lang == "zh" else ", "
        rows.append(
            {
                **s.__dict__,
                "cases_text": cases.join(
                    f"{context.services.texts.ref(context.lang, c.ref)} "
                    f"{context.label(labels.SEVERITIES[c.severity])}"
                    for c in s.complaint.cases
                ),
            }
        )
    await send(update, context, context.render("team/summary", summaries=rows))


async def hot(update: Update, context: Context) -> None:
    """/hot [UNIT] [DAYS]: how many opinions per office, item and channel, and the topics
    that recur in them (the plan's 热点问题, 归纳整理)."""
    campaign = context.services.campaign
    unit_id: str | None = None
    days = 30
    for arg in context.args or []:
        number = parse_number(arg, 1, 3660)
        if number is not None:
            days = number
        else:
            unit_id = campaign.find_unit(arg).id  # by name, part of it, or code
    report = await hot_issues(context.services, unit_id, days)
    sep = " · "
    by_unit = []
    for unit in campaign.units:
        parts = [
            f"{item_label(context, item)} {n}"
            for (u, item), n in sorted(report.by_unit_item.items(), key=lambda kv: -kv[1])
            if u == unit.id
        ]
        if parts:
            by_unit.append((unit.label(context.lang), sep.join(parts)))
    channels = sep.join(
        f"{context.label(labels.CHANNELS.get(c, c))} {n}"
        for c, n in sorted(report.by_channel.items(), key=lambda kv: -kv[1])
    )
    topics = sep.join(f"{word} ({n})" for word, n in report.topics)
    chosen = campaign.unit(unit_id) if unit_id else None
    scope = chosen.label(context.lang) if chosen else context.label(labels.ALL_OFFICES)
    await send(
        update,
        context,
        context.render(
            "team/hot",
            report=report,
            by_unit=by_unit,
            channels=channels,
            topics=topics,
            scope=scope,
        ),
    )


async def export(update: Update, context: Context) -> None:
    """/export cases|results: the spreadsheet of cases, states, deadlines and deductions;
    or of the results: ranking, per-item rates, cases and deductions."""
    organiser = asker(update)
    which = (context.args or ["cases"])[0]
    if which not in ("cases", "results"):
        await send(update, context, context.render("team/export_usage"))
        return
    make = cases_workbook if which == "cases" else results_workbook
    data = await make(context.services, context.lang, organiser)
    chat = update.effective_chat
    assert chat is not None
    stamp = context.services.clock.now().astimezone(context.services.campaign.tz)
    await send_file(
        context,
        chat.id,
        "document",
        data,
        context.label(labels.SHEET_CASES if which == "cases" else labels.SHEET_RANKING),
        f"{which}-{stamp:%Y%m%d-%H%M}.xlsx",
    )


def item_label(context: Context, item_id: str) -> str:
    item = context.services.campaign.item(item_id)
    return item.label(context.lang) if item else context.label(labels.OTHER_ITEM)


async def console_command(update: Update, context: Context) -> None:
    """/console: a single-use link to the web console, valid ten minutes, for this account
    (organisers, supervisors and staff); and the console's menu button in this chat."""
    user = context.sender
    services = context.services
    roles = await roles_of(services, user.id)
    if not roles.team:
        raise UserError("case/not_allowed")
    if not services.console_url:
        await send(update, context, context.render("team/console_off"))
        return
    token = await auth.new_link(services, user.id)
    link = services.console_url.rstrip("/") + "/login?" + urlencode({"t": token})
    async with services.db.transaction() as tx:
        await notify.console_button(tx, services, user.id)
    services.outbox.wake()
    await send(update, context, context.render("team/console_link", link=link))
