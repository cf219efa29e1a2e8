"""Results (design §5, §7): the tallies from SQL, the numbers from ``scoring``, the ranking
of any round and the history; daily-work scores and proposals. The chart is
:mod:`bot.results.chart`, publication and the public pages :mod:`bot.results.publish`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bot.args import parse_decimal
from bot.campaign import Campaign
from bot.db import audit
from bot.db import results as store
from bot.db import tallies as tally_store
from bot.db.results import RankingRow
from bot.errors import RowProblem, UserError
from bot.results.findings import unit_findings
from bot.rounds import Round
from bot.services import Services
from scoring import Change, Counts, Ranking, UnitInput, change, fmt, rank


async def unit_inputs(services: Services, round_: Round | None = None) -> list[UnitInput]:
    """What scoring needs, per unit of a round (None: the current round): ballot counts (the
    running tallies), findings, daily score."""
    campaign = round_.campaign if round_ and round_.campaign else services.campaign
    round_id = round_.id if round_ else None
    ballots: dict[str, dict[tuple[str, str], Counts]] = {u.id: {} for u in campaign.units}
    for c in await tally_store.by_category(services.db, round_id):
        if c.unit_id in ballots:
            ballots[c.unit_id][(c.item_id, c.category)] = Counts(
                c.satisfied, c.basic, c.unsatisfied, c.unknown
            )
    findings = await unit_findings(services, round_id)
    daily = await store.daily_scores(services.db, round_id)
    return [
        UnitInput(
            unit.id,
            unit.name,
            ballots[unit.id],
            findings.get(unit.id, ()),
            daily.get(unit.id),
        )
        for unit in campaign.units
    ]


async def current_ranking(services: Services) -> Ranking:
    """The ranking as it stands, computed again only when what it is computed from changed
    (``scores_fingerprint``): with 100,000 cases one computation takes longer than the
    console's overview may (bench_console)."""
    ranking = await round_ranking(services, None)
    assert ranking is not None
    return ranking


async def round_ranking(services: Services, round_: Round | None) -> Ranking | None:
    """A round's ranking as it stands now (None: the current round's): an earlier round's
    ballots, daily-work scores and findings no longer change, but its cases may still be
    substantiated, so it is computed like the current one (and cached the same way). None
    when the round's campaign file was not kept."""
    if round_ is not None and round_.id == services.campaign.id:
        round_ = None
    campaign = services.campaign if round_ is None else round_.campaign
    if campaign is None:
        return None
    key = campaign.id
    fingerprint = await store.scores_fingerprint(services.db)
    if round_ is not None:  # an earlier round's ballots and daily scores no longer change
        fingerprint = fingerprint[2:4]  # its cases' moves, and findings that name its cases
    cached = services.ranking_cache.get(key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    ranking = rank(
        await unit_inputs(services, round_), campaign.scoring, [i.id for i in campaign.items]
    )
    services.ranking_cache[key] = (fingerprint, ranking)
    return ranking


@dataclass(frozen=True)
class History:
    """Each office over the rounds (design §12): every round's ranking as it stands, and the
    change of the current round's figures from the previous round's."""

    rounds: tuple[tuple[Round, Ranking], ...]  # the rounds whose file is known, in order
    previous: Round | None
    changes: dict[str, Change]  # per office scored in both rounds, against the previous
    # round's figures as the data now gives them (a case of it substantiated since counts)
    # the change of the composite against the previous round's figure as it was published,
    # for the offices where that figure differs from what the data now gives
    against_published: dict[str, tuple[Decimal, Decimal | None]] = field(default_factory=dict)

    def series(self, unit_id: str) -> list[tuple[Round, Decimal | None]]:
        """An office's composite (as shown) in every round it was evaluated in."""
        found = []
        for round_, ranking in self.rounds:
            try:
                found.append((round_, ranking.get(unit_id).result.published))
            except KeyError:
                continue
        return found


async def history(services: Services) -> History:
    rankings: list[tuple[Round, Ranking]] = []
    for round_ in services.rounds:  # the current one last (bot.rounds.load)
        ranking = await round_ranking(services, round_)
        if ranking is not None:
            rankings.append((round_, ranking))
    # the current round is the last; the previous is the last earlier one whose file is kept
    previous = rankings[-2][0] if len(rankings) > 1 else None
    changes: dict[str, Change] = {}
    if previous is not None:
        before = rankings[-2][1]
        for ranked in rankings[-1][1].units:
            try:
                earlier = before.get(ranked.result.unit_id).result
            except KeyError:
                continue
            changes[ranked.result.unit_id] = change(ranked.result, earlier)
    published: dict[str, tuple[Decimal, Decimal | None]] = {}
    if previous is not None:
        shown = await store.last_publication(services.db, previous.id)
        before = rankings[-2][1]
        for row in shown.ranking if shown else []:
            if not row.composite or row.unit_id not in changes:
                continue
            was = Decimal(row.composite)
            try:
                now_then = before.get(row.unit_id).result.published
            except KeyError:
                continue
            if now_then is not None and now_then != was:
                current = rankings[-1][1].get(row.unit_id).result.published
                published[row.unit_id] = (was, current - was if current is not None else None)
    return History(tuple(rankings), previous, changes, published)


def snapshot(ranking: Ranking, campaign: Campaign) -> list[RankingRow]:
    """The ranking as published: plain values, two places, kept with the publication."""
    rows = []
    for ranked in ranking.units:
        r = ranked.result
        unit = campaign.unit(r.unit_id)
        rows.append(
            RankingRow(
                rank=ranked.rank,
                unit_id=r.unit_id,
                name=unit.name if unit else r.unit_id,
                name_en=unit.name_en if unit else "",
                composite=fmt(r.composite, none=""),
                democratic=fmt(r.democratic, none=""),
                complaint=fmt(r.complaint.score),
                daily=fmt(r.daily, none=""),
                flagged=r.flagged,
                ballots=r.counts.total,
            )
        )
    return rows


def parse_daily(text: str, services: Services) -> Decimal:
    """A daily-work score as typed: a number between 0 and the campaign's maximum."""
    limit = services.campaign.scoring.daily_max
    value = parse_decimal(text)
    if value is None or not 0 <= value <= limit or value != value.quantize(Decimal("0.01")):
        raise UserError("results/bad_daily", text=text[:20], limit=fmt(limit))
    return value


async def set_daily(
    services: Services, organiser_id: int, unit_id: str, text: str, via: str = "chat"
) -> Decimal:
    services.campaign.require_unit(unit_id)
    value = parse_daily(text, services)
    now = services.clock.now()
    async with services.db.transaction() as tx:
        await store.set_daily(tx, unit_id, value, organiser_id, now)
        await audit.record(tx, organiser_id, via, "daily", now, unit_id, fmt(value))
    return value


async def set_dailies(
    services: Services, organiser_id: int, scores: list[tuple[int, str, str]], via: str
) -> list[RowProblem]:
    """Several daily-work scores at once (the console's table, a spreadsheet): each given
    as (row, office as named, score as typed). Every row is read first; one that does not
    hold refuses them all, so nothing is half entered. The refusals, or [] when stored."""
    campaign = services.campaign
    problems: list[RowProblem] = []
    values: dict[str, Decimal] = {}
    for row, named, text in scores:
        try:
            unit = campaign.find_unit(named)
            if unit.id in values:
                raise UserError("results/daily_twice", unit=unit.name)
            values[unit.id] = parse_daily(text, services)
        except UserError as refusal:
            problems.append(RowProblem(row, refusal.template, dict(refusal.context)))
    if problems:
        return problems
    now = services.clock.now()
    async with services.db.transaction() as tx:
        for unit_id, value in values.items():
            await store.set_daily(tx, unit_id, value, organiser_id, now)
            await audit.record(tx, organiser_id, via, "daily", now, unit_id, fmt(value))
    return []


async def add_proposal(
    services: Services,
    organiser_id: int,
    unit_id: str,
    text: str,
    origin: str,
    via: str = "chat",
) -> None:
    """The handling proposal for a flagged office, once per ``origin`` (an update, a form)."""
    services.campaign.require_unit(unit_id)
    text = text.strip()
    if not text or len(text) > services.campaign.intake.max_text:
        raise UserError("results/proposal_usage")
    now = services.clock.now()
    async with services.db.transaction() as tx:
        if await store.add_proposal(tx, unit_id, text, organiser_id, now, origin):
            await audit.record(tx, organiser_id, via, "proposal", now, unit_id, text[:60])
