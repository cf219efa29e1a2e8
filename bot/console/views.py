"""What the web console shows (design §11), decided here and not in the web layer: who may
open it, the overview with the rates a district reports per office, and the case list.

Role and scope are read from the database for every request (``roles_of``); nothing the
browser sends decides them. Staff see their own office, supervisors their scope, organisers
everything; the live results and the turnout are for organisers and supervisors, as in chat.

The rates per office (each is None while nothing can be judged):

- **响应率, responded on time**: of the cases whose verification has started or whose
  verification deadline has passed, the share whose verification started by the deadline.
- **按期办结率, finished on time**: of the cases the office finished (rectified, or closed)
  plus the open cases now overdue, the share finished by the deadline in force then.
- **满意率, satisfaction**: of the cases the resident rated, the share rated 满意 or 基本满意.
- **reopened**: cases reopened after a resident's 不满意 (counted once per case).
- **mean days to close**: from filing to closing, over the closed cases.
- **overdue now**: open cases whose current stage is past its deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from bot.ballots import evaluation as ballots
from bot.chat import labels
from bot.db import console as store
from bot.db import search
from bot.db import users as user_store
from bot.db.cases import Case
from bot.db.console import CaseFilter, OfficeCounts
from bot.results import ranking as results
from bot.roles import Roles, roles_of
from bot.services import Services
from bot.texts import N_
from bot.vocabulary import CaseState
from scoring import fmt

PAGE_SIZE = 25


@dataclass(frozen=True)
class Viewer:
    """A person using the console, with their roles as the database holds them now."""

    roles: Roles
    lang: str
    name: str = ""  # as Telegram gave it: the header says who is signed in

    @property
    def user_id(self) -> int:
        return self.roles.user_id

    @property
    def allowed(self) -> bool:
        """Organisers, supervisors and staff: everyone else gets 403."""
        return self.roles.team

    @property
    def watcher(self) -> bool:
        """Follows the live results and the turnout (organisers and supervisors)."""
        return self.roles.organiser or bool(self.roles.supervisor)

    @property
    def organiser(self) -> bool:
        return self.roles.organiser


async def viewer(services: Services, user_id: int, lang: str) -> Viewer:
    names = await user_store.names(services.db, [user_id])
    return Viewer(await roles_of(services, user_id), lang, names.get(user_id, ""))


def signed_in_as(services: Services, who: Viewer) -> str:
    """Who is signed in, and for what: the header of every page."""
    t, lang, roles = services.texts, who.lang, who.roles

    def offices(units: frozenset[str]) -> str:
        return labels.offices_named(services.campaign, t, lang, units)

    if roles.organiser:
        role = t.gettext(lang, N_("organiser (区纠风办)"))
    elif roles.staff:
        role = t.gettext(lang, N_("staff of %(offices)s"), offices=offices(roles.staff))
    elif roles.supervisor:
        role = t.gettext(lang, N_("supervisor of %(offices)s"), offices=offices(roles.supervisor))
    else:
        role = ""
    return " · ".join(part for part in (who.name or str(who.user_id), role) if part)


def scope(services: Services, who: Viewer) -> list[str]:
    """The offices whose cases and figures the viewer sees, in the campaign's order."""
    return who.roles.units([u.id for u in services.campaign.case_units])


def as_filter(services: Services, units: list[str]) -> list[str] | None:
    """The offices for a query: None when they are all of them (no filter to apply)."""
    return None if len(units) == len(services.campaign.case_units) else units


def label(services: Services, unit_id: str, lang: str) -> str:
    unit = services.campaign.known_unit(unit_id)
    return unit.label(lang) if unit else unit_id


def rate(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


@dataclass(frozen=True)
class OfficeRow:
    unit_id: str
    name: str
    counts: OfficeCounts

    @property
    def responded(self) -> Fraction | None:
        return rate(self.counts.responded_on_time, self.counts.respond_judged)

    @property
    def on_time(self) -> Fraction | None:
        return rate(self.counts.finished_on_time, self.counts.finish_judged)

    @property
    def satisfaction(self) -> Fraction | None:
        return rate(self.counts.satisfied, self.counts.rated)

    @property
    def mean_days(self) -> float | None:
        return self.counts.days_to_close / self.counts.closed if self.counts.closed else None


@dataclass(frozen=True)
class TurnoutRow:
    unit_id: str
    name: str
    category: str
    evaluators: int
    answered: int
    expected: int

    @property
    def share(self) -> Fraction | None:
        return rate(self.answered, self.expected)


@dataclass(frozen=True)
class Overview:
    phase: str | None  # the campaign phase today (its name), None between phases
    ballots_open: bool
    states: dict[str, int]
    offices: list[OfficeRow]
    overdue: list[Case]
    turnout: list[TurnoutRow] | None  # None: not for this viewer
    flagged: list[tuple[str, str]] | None  # (unit id, composite) below the threshold


async def overview(services: Services, who: Viewer) -> Overview:
    campaign, now = services.campaign, services.clock.now()
    units = scope(services, who)
    counts = await store.office_counts(services.db, now)
    offices = [
        OfficeRow(u, label(services, u, who.lang), counts.get(u) or OfficeCounts(u)) for u in units
    ]
    every = as_filter(services, units)
    overdue, _ = await store.find_cases(
        services.db, CaseFilter(every, overdue=True, sort="due"), now, 20, 0, count=False
    )
    per_state = await store.states_in(services.db, every)
    states = {s.value: per_state.get(s.value, 0) for s in CaseState}
    turnout = flagged = None
    if who.watcher:
        shown = set(units)
        turnout = [
            TurnoutRow(
                t.unit_id,
                label(services, t.unit_id, who.lang),
                t.category,
                t.evaluators,
                t.answered,
                t.expected,
            )
            for t in await ballots.turnout(services)
            if t.unit_id in shown
        ]
        ranking = await results.current_ranking(services)
        flagged = [
            (u.result.unit_id, fmt(u.result.published) if u.result.published is not None else "")
            for u in ranking.flagged
            if u.result.unit_id in shown
        ]
    phase = campaign.phase_on(campaign.today(now))
    return Overview(
        phase.label(who.lang) if phase else None,
        await ballots.is_open(services),
        states,
        offices,
        overdue,
        turnout,
        flagged,
    )


@dataclass(frozen=True)
class CaseQuery:
    """The case list's filters as the browser sent them, checked."""

    unit: str | None = None
    state: str | None = None
    item: str | None = None
    channel: str | None = None
    overdue: bool = False
    since: dt.date | None = None
    until: dt.date | None = None
    text: str = ""
    sort: str = "new"
    page: int = 1


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    total: int
    page: int
    pages: int


async def find(services: Services, who: Viewer, q: CaseQuery) -> CasePage:
    campaign, now = services.campaign, services.clock.now()
    units = scope(services, who)
    if q.unit is not None:
        units = [u for u in units if u == q.unit]
    tz = campaign.tz

    def start(day: dt.date | None) -> dt.datetime | None:
        return dt.datetime.combine(day, dt.time(0), tz) if day else None

    until = start(q.until + dt.timedelta(days=1)) if q.until else None
    f = CaseFilter(
        as_filter(services, units) if q.unit is None else units,
        states=[q.state] if q.state else None,
        item=q.item,
        channel=q.channel,
        overdue=q.overdue,
        since=start(q.since),
        until=until,
        words=tuple(search.query_words(q.text)) or None,
        sort=q.sort if q.sort in store.SORTS else "new",
    )
    if q.text.strip() and f.words is None:
        return CasePage([], 0, 1, 1)
    page = max(1, q.page)
    cases, total = await store.find_cases(services.db, f, now, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return CasePage(cases, total, page, pages)
