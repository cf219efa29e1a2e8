"""Rounds (design §12): one database across the years, one campaign file a round.

The last round opened is the current one: new opinions, ballots, invitations and results
go to it. Earlier rounds stay readable as they were: each keeps its campaign file (its
offices, items and scoring), ballots, log and chain head, findings, daily-work scores,
proposals and publications. A case belongs to the round it was filed in and counts there
however long its rectification takes. Staff and supervisors carry over unless the new file
says otherwise; evaluators and their invitations belong to a round; residents and
subscribers stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from bot.args import parse_number
from bot.campaign import Campaign, Named, parse_campaign
from bot.db import Database
from bot.db import rounds as store
from bot.db.roundfile import RoundFile
from bot.errors import CampaignError, RoundError


@dataclass(frozen=True)
class Round:
    id: str
    year: int
    campaign: Campaign | None  # None: its file was not kept (opened before rounds existed)
    window: str  # auto | open | closed: its ballot window as stored

    def title(self, lang: str) -> str:
        return self.campaign.title(lang) if self.campaign else self.id


def round_file(campaign: Campaign) -> RoundFile:
    return RoundFile(campaign.id, campaign.year, campaign.name, campaign.text)


def _parse(row: store.RoundRow) -> Campaign | None:
    if not row.campaign:
        return None
    try:
        return parse_campaign(row.campaign, Path(f"<round {row.id}>"))
    except CampaignError:  # kept by an older version that read it differently
        return None


async def load(db: Database, current: Campaign) -> tuple[Round, ...]:
    """Every round, the current one with the campaign the bot runs."""
    rows = await store.rounds(db)
    return tuple(
        Round(
            row.id,
            current.year if row.id == current.id else row.year,
            current if row.id == current.id else _parse(row),
            row.window,
        )
        for row in rows
    )


def with_history(campaign: Campaign, rounds: tuple[Round, ...]) -> Campaign:
    """The campaign as the bot runs it: knowing by name the offices earlier rounds had and
    this one dropped, whose cases are still followed."""
    former: dict[str, Named] = {}
    for r in rounds:
        if r.campaign is not None and r.id != campaign.id:
            for unit in r.campaign.units:
                if campaign.unit(unit.id) is None:
                    former[unit.id] = unit
    return replace(campaign, former_units=tuple(former.values()))


def find(rounds: tuple[Round, ...], text: str) -> Round | None:
    """A round by its id, or by its year in any script's digits (the last round of that
    year)."""
    text = text.strip()
    for r in rounds:
        if r.id == text:
            return r
    year = parse_number(text)
    same_year = [r for r in rounds if r.year == year]
    return same_year[-1] if same_year else None


@dataclass(frozen=True)
class Opening:
    """What ``evalbot round start`` did."""

    seq: int
    campaign: Campaign
    previous: Round | None
    continuing: tuple[Named, ...]
    added: tuple[Named, ...]
    dropped: tuple[Named, ...]
    roles_ended: int
    carried: store.Carried

    def report(self) -> list[str]:
        """What an organiser is told (``evalbot round start``, the demo)."""
        c, campaign = self.carried, self.campaign

        def names(units: tuple[Named, ...]) -> str:
            return "、".join(u.name for u in units) or "none"

        lines = [f"round {self.seq} is {campaign.id} ({campaign.name}, {campaign.year})"]
        if self.previous is not None:
            lines += [
                f"  the round before, {self.previous.id}, is kept as history",
                f"  offices continuing: {names(self.continuing)}",
                f"  offices added: {names(self.added)}",
                f"  offices dropped (their cases are still followed): {names(self.dropped)}",
                f"  staff and supervisor roles ended as the file says: {self.roles_ended}",
            ]
        lines.append(
            f"  carried over: {c.staff} staff, {c.supervisors} supervisors, {c.subscribers} "
            f"subscribers, {c.open_cases} open cases; evaluators are invited anew for this round"
        )
        return lines


def _window_over(last: Round, now: dt.datetime) -> bool:
    if last.window != "auto":
        return last.window == "closed"
    if last.campaign is None:
        return False  # its dates are unknown: an organiser closes it by hand
    return now > last.campaign.evaluate_window()[1]


async def start(db: Database, campaign: Campaign, now: dt.datetime) -> Opening:
    """Open ``campaign`` as the next round: refused while the current round's ballot window
    may still take answers or its ballot cards are still being closed, or when the file's
    id or year does not come after the current round's."""
    rounds = await load(db, campaign)
    if not rounds:
        await db.claim(round_file(campaign))  # a database no campaign has claimed: the first
        return Opening(1, campaign, None, (), campaign.units, (), 0, await store.carried(db))
    last = rounds[-1]
    if any(r.id == campaign.id for r in rounds):
        raise RoundError(
            f"the round {campaign.id!r} was opened already"
            + (" and is the current round" if last.id == campaign.id else "")
            + ": a new round needs a new [campaign] id"
        )
    if campaign.year < last.year:
        raise RoundError(
            f"the file's year {campaign.year} comes before the current round's ({last.year})"
        )
    if not _window_over(last, now):
        raise RoundError(
            f"the ballot window of the current round {last.id!r} is not over: close it first "
            "(/ballots close, or wait for the end of its evaluate phase), then run the bot "
            "until every ballot card is final"
        )
    live = await store.live_cards(db)
    if live:
        raise RoundError(
            f"{live} ballot card(s) of the round {last.id!r} still have their buttons: run the "
            "bot until it has closed them (it does so within minutes of the close), then stop "
            "it and open the round"
        )
    before = last.campaign.units if last.campaign else ()
    continuing = tuple(u for u in campaign.units if any(b.id == u.id for b in before))
    added = tuple(u for u in campaign.units if u not in continuing)
    dropped = tuple(b for b in before if campaign.unit(b.id) is None)
    async with db.transaction() as tx:
        seq = await store.open_round(tx, round_file(campaign), now)
        if not campaign.round.carry_over:
            ended = await store.end_team_roles(tx, None)
        elif campaign.round.invite_again:
            ended = await store.end_team_roles(tx, list(campaign.round.invite_again))
        else:
            ended = 0
    return Opening(seq, campaign, last, continuing, added, dropped, ended, await store.carried(db))
