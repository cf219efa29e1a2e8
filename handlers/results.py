"""Results in chat: /daily, /rank, /results, /flagged, /proposal, /publish, /subscribe."""

from __future__ import annotations

from telegram import Update

from bot import rounds
from bot.chat import keyboards, labels
from bot.chat.callbacks import Kind
from bot.db import results as result_store
from bot.errors import UserError
from bot.results import publish as publication
from bot.results import ranking as results
from bot.roles import roles_of
from bot.rounds import Round
from handlers.access import asker
from handlers.common import answer, send
from handlers.context import Context
from scoring import Answer, fmt, fmt_percent


async def require_watcher(update: Update, context: Context) -> None:
    """Organisers and supervisors follow the live results."""
    user = context.sender
    roles = await roles_of(context.services, user.id)
    if not (roles.organiser or roles.supervisor):
        raise UserError("case/not_allowed")


async def daily(update: Update, context: Context) -> None:
    """/daily UNIT SCORE: the daily-work score A (0 to the campaign's maximum)."""
    organiser = asker(update)
    services = context.services
    args = context.args or []
    limit = fmt(services.campaign.scoring.daily_max)
    if len(args) != 2:
        await send(
            update,
            context,
            context.render(
                "results/daily_usage",
                limit=limit,
                unit_ids="、".join(u.label(context.lang) for u in services.campaign.units),
            ),
        )
        return
    unit = services.campaign.find_unit(args[0])  # by name, part of it, or code
    value = await results.set_daily(services, organiser, unit.id, args[1])
    await send(
        update,
        context,
        context.render("results/daily_set", unit=unit.label(context.lang), score=fmt(value)),
    )


async def rank_command(update: Update, context: Context) -> None:
    """/rank: every unit with its rank and composite (to organisers and supervisors the
    live ranking, to everyone else what was published); /rank 2025 (a round's year or id):
    an earlier round's ranking as it was published."""
    user = context.sender
    services = context.services
    hint = ", ".join(f"/rank {r.year}" for r in services.rounds if r.id != services.campaign.id)
    if context.args:
        found = rounds.find(services.rounds, context.args[0])
        if found is None:
            raise UserError(
                "results/no_round",
                given=context.args[0][:40],
                rounds=", ".join(f"{r.year} ({r.id})" for r in services.rounds),
            )
        if found.id != services.campaign.id:
            await earlier_rank(update, context, found)
            return
    roles = await roles_of(services, user.id)
    threshold = fmt(services.campaign.scoring.threshold, 0)
    if roles.organiser or roles.supervisor:
        ranking = await results.current_ranking(services)
        rows = results.snapshot(ranking, services.campaign)
        title, at, head = context.label(labels.LIVE_RANKING), services.clock.now(), ""
    else:
        published = await result_store.last_publication(services.db)
        if published is None:
            await send(update, context, context.render("results/not_published", earlier=hint))
            return
        rows, at, head = published.ranking, published.published_at, published.head
        title = context.label(labels.PUBLISHED_RANKING)
    await send(
        update,
        context,
        context.render(
            "results/rank",
            rows=rows,
            title=title,
            at=at,
            head=head,
            threshold=threshold,
            earlier=hint,
        ),
    )


async def earlier_rank(update: Update, context: Context, round_: Round) -> None:
    """An earlier round's ranking, exactly as it was last published."""
    services = context.services
    published = await result_store.last_publication(services.db, round_.id)
    name = round_.title(context.lang)
    if published is None:
        await send(update, context, context.render("results/round_not_published", name=name))
        return
    scoring = round_.campaign.scoring if round_.campaign else services.campaign.scoring
    await send(
        update,
        context,
        context.render(
            "results/rank",
            rows=published.ranking,
            title=f"{name} · {context.label(labels.PUBLISHED_RANKING)}",
            at=published.published_at,
            head=published.head,
            threshold=fmt(scoring.threshold, 0),
            earlier="",
        ),
    )


async def results_command(update: Update, context: Context) -> None:
    """/results UNIT: the unit's breakdown: per item the four rates and the score, D, C with
    the cases behind it, A, the composite, the flag. /results alone: the ranking."""
    await require_watcher(update, context)
    services = context.services
    if not context.args:
        await rank_command(update, context)
        return
    unit = services.campaign.find_unit(" ".join(context.args))
    unit_id = unit.id
    ranking = await results.current_ranking(services)
    ranked = ranking.get(unit_id)
    r = ranked.result
    items = []
    shows = services.campaign.ballots.shows
    for item_result in r.items:
        item = services.campaign.item(item_result.item_id)
        items.append(
            {
                "name": item.label(context.lang) if item else item_result.item_id,
                "hidden": not shows(item_result.counts.total),
                "s": fmt_percent(item_result.rate(Answer.SATISFIED)),
                "b": fmt_percent(item_result.rate(Answer.BASIC)),
                "n": fmt_percent(item_result.rate(Answer.UNSATISFIED)),
                "u": fmt_percent(item_result.rate(Answer.UNKNOWN)),
                "score": fmt(item_result.score),
            }
        )
    proposals = (await result_store.proposals(services.db)).get(unit_id, [])
    await send(
        update,
        context,
        context.render(
            "results/unit",
            name=unit.label(context.lang),
            rank=ranked.rank,
            r=r,
            items=items,
            k=services.campaign.ballots.smallest_group,
            proposals=proposals,
            threshold=fmt(services.campaign.scoring.threshold, 0),
            severities={s: context.label(labels.SEVERITIES[s]) for s in labels.SEVERITIES},
        ),
    )


async def flagged(update: Update, context: Context) -> None:
    """/flagged: units below the threshold, with their cases and proposals (the plan:
    处理意见 for units under 85)."""
    services = context.services
    ranking = await results.current_ranking(services)
    proposals = await result_store.proposals(services.db)
    rows = []
    for ranked in ranking.flagged:
        r = ranked.result
        unit = services.campaign.unit(r.unit_id)
        rows.append(
            {
                "unit_id": r.unit_id,
                "name": unit.label(context.lang) if unit else r.unit_id,
                "typed": unit.name if unit else r.unit_id,  # as a command takes it
                "composite": fmt(r.composite),
                "cases": [
                    {"ref": c.ref, "severity": context.label(labels.SEVERITIES[c.severity])}
                    for c in r.complaint.cases
                ],
                "proposals": proposals.get(r.unit_id, []),
            }
        )
    await send(
        update,
        context,
        context.render(
            "results/flagged", flagged=rows, threshold=fmt(services.campaign.scoring.threshold, 0)
        ),
    )


async def proposal(update: Update, context: Context) -> None:
    """/proposal UNIT TEXT: record the handling proposal for a unit."""
    organiser = asker(update)
    args = context.args or []
    if len(args) < 2:
        await send(update, context, context.render("results/proposal_usage"))
        return
    words = (context.command_text or "").split(maxsplit=2)
    text = words[2] if len(words) > 2 else ""
    unit = context.services.campaign.find_unit(args[0])
    await results.add_proposal(
        context.services, organiser, unit.id, text, f"update:{context.update_id}"
    )
    await send(
        update, context, context.render("results/proposal_recorded", unit=unit.label(context.lang))
    )


async def publish(update: Update, context: Context) -> None:
    """/publish: first what would go out, exactly as the channel will read it, and what is
    not ready (the window open, offices without ballots or daily scores); the organiser's
    press on "publish" then sends that ranking, and no other."""
    if await said_published(update, context):
        return
    await show_preview(update, context)


async def show_preview(update: Update, context: Context, changed: bool = False) -> None:
    services = context.services
    found = await publication.preview(services)
    shown = publication.channel_text(services, found)
    label = labels.PUBLISH_AGAIN if found.last else labels.PUBLISH_NOW
    await send(
        update,
        context,
        context.render("results/preview", p=found, shown=shown, changed=changed),
        keyboards.confirm(label, Kind.PUBLISH, found.fingerprint),
    )


async def on_publish_confirmed(update: Update, context: Context) -> None:
    """The organiser's "publish" under a preview: the ranking previewed, if it still is."""
    query, user, button = context.press
    await answer(query)
    if await said_published(update, context):
        return
    try:
        done = await publication.publish(
            context.services, user.id, f"update:{context.update_id}", button.arg
        )
    except UserError as refusal:
        if refusal.template != "results/changed":
            raise
        await show_preview(update, context, changed=True)
        return
    await say_published(update, context, done)


async def said_published(update: Update, context: Context) -> bool:
    """A replay of the update that published (its answer cut short by a crash): say it was
    published, rather than ask whether to publish again."""
    done = await publication.published_by(context.services, f"update:{context.update_id}")
    if done is None:
        return False
    await say_published(update, context, done)
    return True


async def say_published(update: Update, context: Context, done: publication.Published) -> None:
    await send(
        update,
        context,
        context.render("results/published_done", count=done.recipients, head=done.head),
    )


async def subscribe(update: Update, context: Context) -> None:
    """/subscribe: receive the results when they are published."""
    user = context.sender
    await publication.subscribe(context.services, user.id, True)
    await send(update, context, context.render("results/subscribed", on=True))


async def unsubscribe(update: Update, context: Context) -> None:
    user = context.sender
    await publication.subscribe(context.services, user.id, False)
    await send(update, context, context.render("results/subscribed", on=False))
