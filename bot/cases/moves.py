"""The life of a case (design §4), as a table of moves: who may make each, from which
states, what it needs, where it leads.

::

    filed ─▶ verifying ─┬─▶ closed (not substantiated, with explanation)
                        └─▶ substantiated (general | punished)
                               ├─▶ rectifying (plan + deadline) ─▶ rectified
                               └─▶ deferred (explanation + plan + deadline) ─▶ rectifying …
    rectified ─(resident: satisfied | basically satisfied)─▶ closed
    rectified ─(resident: not satisfied)─▶ reopened ─(organiser)─▶ verifying | substantiated |
                                                                    closed
    rectified ─(organiser)─▶ closed        any state ─(supervisor, organiser: a note)─▶ itself

The rating is kept with the case (``cases.rating``); it is not a state of its own.

:func:`apply_move` checks a move against this table and the actor's roles, changes the
case, records the event and queues the notifications it causes, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.campaign import Campaign
from bot.cases import digest
from bot.chat import keyboards, notify
from bot.db import Tx
from bot.db import cases as case_store
from bot.db import roles as role_store
from bot.db.cases import Case
from bot.errors import UserError
from bot.services import Services
from bot.texts import N_
from bot.vocabulary import (
    NOT_SUBSTANTIATED,
    CaseState,
    Move,
    Need,
    Outcome,
    Rating,
    Role,
    Severity,
)

S = CaseState
VERIFIABLE = frozenset({S.FILED, S.VERIFYING, S.REOPENED})


@dataclass(frozen=True)
class MoveSpec:
    move: Move
    label: str
    sources: frozenset[CaseState]
    target: CaseState | None  # None: the state does not change
    roles: frozenset[Role]
    needs: tuple[Need, ...] = ()
    outcome: Outcome | None = None
    tell_resident: bool = True
    tell_staff: bool = False
    tell_organisers: bool = False
    raises_only: bool = False  # RAISE: only a general outcome can be raised


MOVES: dict[Move, MoveSpec] = {
    spec.move: spec
    for spec in (
        MoveSpec(
            Move.VERIFY,
            N_("Start verifying"),
            frozenset({S.FILED}),
            S.VERIFYING,
            frozenset({Role.STAFF, Role.ORGANISER}),
        ),
        MoveSpec(
            Move.UNFOUNDED,
            N_("Not substantiated"),
            VERIFIABLE,
            S.CLOSED,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            NOT_SUBSTANTIATED,
            tell_staff=True,
        ),
        MoveSpec(
            Move.GENERAL,
            N_("Substantiated: general problem"),
            VERIFIABLE,
            S.SUBSTANTIATED,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            Severity.GENERAL,
            tell_staff=True,
        ),
        MoveSpec(
            Move.PUNISHED,
            N_("Substantiated: punished"),
            VERIFIABLE,
            S.SUBSTANTIATED,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            Severity.PUNISHED,
            tell_staff=True,
        ),
        MoveSpec(
            Move.RAISE,
            N_("Raise to punished"),
            frozenset({S.SUBSTANTIATED, S.RECTIFYING, S.DEFERRED, S.RECTIFIED, S.CLOSED}),
            None,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            Severity.PUNISHED,
            tell_staff=True,
            raises_only=True,
        ),
        MoveSpec(
            Move.PLAN,
            N_("Rectification plan"),
            frozenset({S.SUBSTANTIATED, S.DEFERRED}),
            S.RECTIFYING,
            frozenset({Role.STAFF}),
            (Need.PLAN, Need.DEADLINE),
            tell_organisers=True,
        ),
        MoveSpec(
            Move.DEFER,
            N_("Cannot rectify yet (defer)"),
            frozenset({S.SUBSTANTIATED}),
            S.DEFERRED,
            frozenset({Role.STAFF}),
            (Need.REASON, Need.PLAN, Need.DEADLINE),
            tell_organisers=True,
        ),
        MoveSpec(
            Move.PROGRESS,
            N_("Report progress"),
            frozenset({S.RECTIFYING, S.DEFERRED}),
            None,
            frozenset({Role.STAFF}),
            (Need.REASON,),
        ),
        MoveSpec(
            Move.COMPLETE,
            N_("Rectification done"),
            frozenset({S.RECTIFYING}),
            S.RECTIFIED,
            frozenset({Role.STAFF}),
            (Need.REASON,),
            tell_organisers=True,
        ),
        MoveSpec(
            Move.REVERIFY,
            N_("Verify again"),
            frozenset({S.REOPENED}),
            S.VERIFYING,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            tell_staff=True,
        ),
        MoveSpec(
            Move.REDO,
            N_("Back to the office to rectify"),
            frozenset({S.REOPENED}),
            S.SUBSTANTIATED,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            tell_staff=True,
        ),
        MoveSpec(
            Move.CLOSE,
            N_("Close the case"),
            frozenset({S.REOPENED, S.RECTIFIED}),
            S.CLOSED,
            frozenset({Role.ORGANISER}),
            (Need.REASON,),
            tell_staff=True,
        ),
        MoveSpec(
            Move.NOTE,
            N_("Add a supervision note"),
            frozenset(CaseState),
            None,
            frozenset({Role.SUPERVISOR, Role.ORGANISER}),
            (Need.REASON,),
            tell_resident=False,
            tell_staff=True,
            tell_organisers=True,
        ),
    )
}


@dataclass(frozen=True)
class Actor:
    """Who acts, and in which roles for the case's unit."""

    user_id: int
    roles: frozenset[Role]
    name: str = ""


@dataclass(frozen=True)
class Fields:
    reason: str = ""
    plan: str = ""
    deadline: dt.datetime | None = None


def read_field(services: Services, need: Need, text: str) -> str | dt.datetime:
    """One answer to what a move needs, read the same in chat and in the console: a reason
    or a plan within the campaign's limit (never cut short), a deadline as a date. Refused
    with the words both show (:class:`UserError`)."""
    text = text.strip()
    if not text:
        raise UserError("case/field_missing", need=need.value)
    if need is Need.DEADLINE:
        deadline = parse_deadline(text, services.clock.now(), services.campaign.tz)
        if deadline is None:
            raise UserError("case/bad_deadline")
        return deadline
    limit = services.campaign.intake.max_text
    if len(text) > limit:
        raise UserError("opinion/too_long", limit=limit, length=len(text), sent=len(text), kept=0)
    return text


def read_fields(services: Services, move: Move, answers: dict[Need, str]) -> Fields:
    """Every answer a move needs, read by :func:`read_field`; the first refused is said."""
    read = {need: read_field(services, need, answers.get(need, "")) for need in MOVES[move].needs}
    deadline = read.get(Need.DEADLINE)
    return Fields(
        reason=str(read.get(Need.REASON, "")),
        plan=str(read.get(Need.PLAN, "")),
        deadline=deadline if isinstance(deadline, dt.datetime) else None,
    )


def allowed_moves(case: Case, roles: frozenset[Role]) -> list[MoveSpec]:
    """The moves these roles may make on the case as it stands."""
    return [
        spec
        for spec in MOVES.values()
        if case.state in spec.sources
        and spec.roles & roles
        and not (spec.raises_only and case.outcome != Severity.GENERAL)
    ]


def check_move(case: Case, move: Move, actor: Actor) -> MoveSpec:
    spec = MOVES[move]
    if not spec.roles & actor.roles:
        raise UserError("case/not_allowed")
    if case.state not in spec.sources or (spec.raises_only and case.outcome != Severity.GENERAL):
        raise UserError("case/move_not_possible", case_id=case.id)
    return spec


def due_after(
    spec: MoveSpec, case: Case, fields: Fields, campaign: Campaign, now: dt.datetime
) -> dt.datetime | None:
    """The deadline of the stage the move leads to."""
    days = campaign.deadlines
    if spec.target is None:
        return case.due_at
    if spec.target in (S.RECTIFYING, S.DEFERRED):
        return fields.deadline
    if spec.target is S.SUBSTANTIATED:
        return now + dt.timedelta(days=days.rectify_days)
    if spec.target is S.VERIFYING:
        if spec.move is Move.VERIFY and case.due_at is not None:
            return case.due_at  # verification was due from the day it was filed
        return now + dt.timedelta(days=days.verify_days)
    return None


def check_deadline(
    spec: MoveSpec, case: Case, deadline: dt.datetime, campaign: Campaign, now: dt.datetime
) -> None:
    """A plan's deadline lies ahead, and within the rectification period the campaign
    gives (a deferred case may look further ahead, up to two years)."""
    if deadline <= now:
        raise UserError("case/deadline_past")
    if spec.move is Move.DEFER:
        latest = now + dt.timedelta(days=730)
    elif case.due_at is not None:
        latest = max(case.due_at, now + dt.timedelta(days=1))
    else:
        latest = now + dt.timedelta(days=campaign.deadlines.rectify_days)
    if deadline > latest:
        raise UserError("case/deadline_too_late", latest=latest)


@dataclass(frozen=True)
class Made:
    """A move as it went: the case as it now stands, and whether this call made it (False:
    the update that asked for it had made it already, before a restart)."""

    case: Case
    new: bool


async def apply_move(
    services: Services,
    case_id: int,
    move: Move,
    actor: Actor,
    fields: Fields,
    origin: str,
) -> Made:
    """Check and make a move, record it (once per ``origin``, the update asking for it) and
    queue its notifications, all in one transaction."""
    campaign, now = services.campaign, services.clock.now()
    async with services.db.transaction() as tx:
        case = await case_store.get_case_tx(tx, case_id)
        if case is None:
            raise UserError("status/not_found", case_id=case_id)
        if await case_store.made_by(tx, origin):
            return Made(case, new=False)
        spec = check_move(case, move, actor)
        if Need.DEADLINE in spec.needs:
            if fields.deadline is None:
                raise UserError("case/deadline_missing")
            check_deadline(spec, case, fields.deadline, campaign, now)
        target = spec.target or CaseState(case.state)
        outcome = spec.outcome or case.outcome
        due = due_after(spec, case, fields, campaign, now)
        await case_store.set_state(tx, case_id, target, outcome, due, now)
        event_id = await case_store.add_event(
            tx,
            case_id,
            now,
            actor.user_id,
            primary_role(actor, spec),
            move,
            case.state,
            target,
            fields.reason,
            fields.plan or None,
            due,
            origin,
        )
        updated = await case_store.get_case_tx(tx, case_id)
        assert updated is not None
        await notify_move(tx, services, spec, updated, fields, event_id)
    services.outbox.wake()
    return Made(updated, new=True)


def primary_role(actor: Actor, spec: MoveSpec) -> Role:
    """The role in which the actor made the move."""
    for role in (Role.ORGANISER, Role.STAFF, Role.SUPERVISOR, Role.RESIDENT):
        if role in actor.roles and role in spec.roles:
            return role
    return Role.SYSTEM


async def notify_move(
    tx: Tx, services: Services, spec: MoveSpec, case: Case, fields: Fields, event_id: int
) -> None:
    """Queue what the move tells the resident, the unit's staff and the organisers."""
    values = {
        "case": case,
        "move": spec.move.value,
        "fields": fields,
        "unit": services.campaign.known_unit(case.unit_id),
    }
    if spec.tell_resident and case.author_id is not None and case.channel == "telegram":
        await notify.notify(
            tx,
            services,
            case.author_id,
            "case/to_resident",
            f"event:{event_id}:resident",
            values=values,
            keyboard=keyboards.rating(case.id) if spec.target is S.RECTIFIED else None,
            lang=case.lang,
        )
    recipients: list[int] = []
    if spec.tell_staff:
        recipients += await role_store.staff_of(tx, case.unit_id)
    if spec.tell_organisers:
        recipients += sorted(services.campaign.organisers)
    await notify.notify_each(
        tx,
        services,
        recipients,
        "case/to_team",
        f"event:{event_id}",
        values=values,
        keyboard=keyboards.open_case(case.id),
    )


async def announce_new_case(tx: Tx, services: Services, case_id: int) -> None:
    """Tell the unit's staff and the organisers that a case has come in."""
    case = await case_store.get_case_tx(tx, case_id)
    assert case is not None
    # the office's staff, and the organisers who follow each case (not a digest)
    recipients = await role_store.staff_of(tx, case.unit_id) + await digest.per_case(services)
    await notify.notify_each(
        tx,
        services,
        recipients,
        "case/new",
        f"new:{case_id}",
        values={"case": case, "unit": services.campaign.known_unit(case.unit_id)},
        keyboard=keyboards.open_case(case.id),
    )


DAYS_RE = re.compile(r"^\s*(\d{1,3})\s*(天|日|days?|d)?\s*$", re.IGNORECASE)
DATE_RE = re.compile(r"^\s*(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_deadline(text: str, now: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    """A deadline as people write it: ``2027-01-31``, ``2027年1月31日``, ``1-31`` (the next
    such day), or a number of days (``30``, ``30天``). The deadline is the end of that day
    in the campaign's time zone; None when the text is not a date."""
    today = now.astimezone(tz).date()
    days = DAYS_RE.match(text)
    if days:
        day = today + dt.timedelta(days=int(days.group(1)))
    else:
        found = DATE_RE.match(text)
        if not found:
            return None
        year = int(found.group(1)) if found.group(1) else today.year
        try:
            day = dt.date(year, int(found.group(2)), int(found.group(3)))
        except ValueError:
            return None
        if not found.group(1) and day < today:
            day = day.replace(year=year + 1)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tz).astimezone(dt.UTC)


async def rate_case(
    services: Services, case_id: int, user_id: int, rating: Rating, origin: str
) -> Made:
    """The resident rates the handling of a rectified case: satisfied or basically satisfied
    closes it; not satisfied reopens it for the organisers (who are told). Once per
    ``origin``."""
    now = services.clock.now()
    async with services.db.transaction() as tx:
        case = await case_store.get_case_tx(tx, case_id)
        if case is None or case.author_id != user_id:
            raise UserError("status/not_found", case_id=case_id)
        if await case_store.made_by(tx, origin):
            return Made(case, new=False)
        if case.state != S.RECTIFIED:
            raise UserError("case/move_not_possible", case_id=case_id)
        target = S.REOPENED if rating is Rating.UNSATISFIED else S.CLOSED
        await case_store.set_state(tx, case_id, target, case.outcome, None, now)
        await case_store.set_rating(tx, case_id, rating.value)
        event_id = await case_store.add_event(
            tx,
            case_id,
            now,
            user_id,
            Role.RESIDENT,
            "rate",
            case.state,
            target,
            "",
            None,
            None,
            origin,
        )
        updated = await case_store.get_case_tx(tx, case_id)
        assert updated is not None
        if target is S.REOPENED:
            await notify.notify_each(
                tx,
                services,
                sorted(services.campaign.organisers) + await role_store.staff_of(tx, case.unit_id),
                "case/to_team",
                f"event:{event_id}",
                values={
                    "case": updated,
                    "move": "reopened",
                    "fields": Fields(),
                    "unit": services.campaign.known_unit(case.unit_id),
                },
                keyboard=keyboards.open_case(updated.id),
            )
    services.outbox.wake()
    return Made(updated, new=True)


async def check_deadlines(services: Services) -> int:
    """Remind a unit's staff before a stage is due, and when it is overdue tell them and
    the organisers. Each reminder is queued once (by key), so running this often, or after
    a restart, sends nothing twice; one that fell due while the bot was down goes out now.
    Returns how many notifications were queued."""
    now = services.clock.now()
    soon = now + dt.timedelta(hours=services.campaign.deadlines.remind_before_hours)
    queued = 0
    for case in await case_store.due_before(services.db, soon):
        assert case.due_at is not None
        kind = "overdue" if case.overdue(now) else "due_soon"
        async with services.db.transaction() as tx:
            recipients = await role_store.staff_of(tx, case.unit_id)
            if kind == "overdue":
                recipients += sorted(services.campaign.organisers)
            queued += await notify.notify_each(
                tx,
                services,
                recipients,
                "case/to_team",
                f"{kind}:{case.id}:{case.due_at.isoformat()}",
                values={
                    "case": case,
                    "move": kind,
                    "fields": None,
                    "unit": services.campaign.known_unit(case.unit_id),
                },
                keyboard=keyboards.open_case(case.id),
            )
    if queued:
        services.outbox.wake()
    return queued
