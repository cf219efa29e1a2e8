"""The democratic evaluation (民主测评, design §6): evaluators, the window, the ballots.

Each evaluator gets, for each unit in scope and each item, one ballot with exactly the
four answers 满意, 基本满意, 不满意, 不了解, in that order, as buttons: the answer is
confirmed on the ballot itself, can be changed (or withdrawn by pressing it again) until
the close, and the last one counts. Every answer, change and withdrawal is appended to a
hash-chained log under a keyed pseudonym; :func:`verify` recounts the tallies from it.

Ballots are buttons rather than native polls: a poll answer carries no chat, cannot be
confirmed on the poll, and a bot cannot show a voter which answer it recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot import keyboards, notify
from bot.db import ballots as store
from bot.db import roles as role_store
from bot.db import tallies as tally_store
from bot.db.roles import ALL_UNITS
from bot.errors import UserError
from bot.keyboards import Keyboard
from bot.services import Services
from bot.texts import N_
from bot.vocabulary import Role
from scoring import ANSWERS, Answer

ANSWER_LABELS = {
    Answer.SATISFIED: N_("Satisfied"),
    Answer.BASIC: N_("Basically satisfied"),
    Answer.UNSATISFIED: N_("Not satisfied"),
    Answer.UNKNOWN: N_("Don't know"),
}


@dataclass(frozen=True)
class Evaluator:
    user_id: int
    category: str
    units: tuple[str, ...]


def phase_window(services: Services) -> tuple[dt.datetime, dt.datetime]:
    """The evaluate phase, from its first day's start to its last day's end."""
    campaign = services.campaign
    phase = next(p for p in campaign.phases if p.id == "evaluate")
    start = dt.datetime.combine(phase.start, dt.time(0, 0), campaign.tz)
    end = dt.datetime.combine(phase.end, dt.time(23, 59, 59), campaign.tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def window(services: Services) -> str:
    return await store.get_meta(services.db, "ballot_window") or "auto"


async def is_open(services: Services) -> bool:
    state = await window(services)
    if state != "auto":
        return state == "open"
    start, end = phase_window(services)
    return start <= services.clock.now() <= end


async def closes_at(services: Services) -> dt.datetime | None:
    """When answers stop counting, if known (an organiser may also close by hand)."""
    if await window(services) != "auto":
        return None
    return phase_window(services)[1]


async def evaluators(services: Services) -> list[Evaluator]:
    all_units = tuple(u.id for u in services.campaign.units)
    found: dict[int, tuple[str, set[str]]] = {}
    for grant in await role_store.evaluator_grants(services.db):
        _, units = found.setdefault(grant.user_id, (grant.category or "", set()))
        units.update(all_units if grant.unit_id == ALL_UNITS else [grant.unit_id])
    return [
        Evaluator(uid, cat, tuple(u for u in all_units if u in units))
        for uid, (cat, units) in found.items()
    ]


async def evaluator(services: Services, user_id: int) -> Evaluator | None:
    return next((e for e in await evaluators(services) if e.user_id == user_id), None)


def ballot_keyboard(unit_id: str, item_id: str, chosen: str | None = None) -> Keyboard:
    """The four answers, in the plan's order, two to a row; the chosen one ticked."""
    answers = [(ANSWER_LABELS[a], a.value) for a in ANSWERS]
    return keyboards.ballot(unit_id, item_id, answers, chosen)


def ballot_values(
    services: Services,
    lang: str,
    unit_id: str,
    item_id: str,
    chosen: str | None = None,
    closes: dt.datetime | None = None,
) -> dict[str, object]:
    """What the ballot template shows: the unit, the item, the answer chosen, the close."""
    campaign = services.campaign
    return {
        "unit": campaign.unit(unit_id),
        "item": campaign.item(item_id),
        "chosen": services.texts.gettext(lang, ANSWER_LABELS[Answer(chosen)]) if chosen else "",
        "closes": closes,
    }


async def send_ballots(services: Services, person: Evaluator) -> int:
    """Queue the evaluator's ballots (each once ever); return how many were new."""
    closes = await closes_at(services)
    queued = 0
    async with services.db.transaction() as tx:
        lang = await notify.language(tx, person.user_id)
        for unit_id in person.units:
            for item in services.campaign.items:
                queued += await notify.notify(
                    tx,
                    services,
                    person.user_id,
                    "ballots/ballot",
                    f"ballot:{person.user_id}:{unit_id}:{item.id}",
                    values=ballot_values(services, lang, unit_id, item.id, None, closes),
                    keyboard=ballot_keyboard(unit_id, item.id),
                    lang=lang,
                )
    services.outbox.wake()
    return queued


async def sync_window(services: Services) -> int:
    """The window's job: once it is open, every evaluator has their ballots; once it has
    closed, the ballots lose their buttons. Safe to run any number of times."""
    if await is_open(services):
        if await store.get_meta(services.db, "ballots_sent") == "1":
            return 0
        sent = 0
        for person in await evaluators(services):
            sent += await send_ballots(services, person)
        async with services.db.transaction() as tx:
            await store.set_meta(tx, "ballots_sent", "1")
        return sent
    return await strip_buttons(services)


async def strip_buttons(services: Services) -> int:
    """Take the answer buttons off every ballot we know of (after the close)."""
    if await store.get_meta(services.db, "ballots_sent") != "1":
        return 0
    stripped = 0
    marker = await store.get_meta(services.db, "ballot_round") or "0"
    async with services.db.transaction() as tx:
        for chat_id, message_id in await store.ballot_messages(services.db):
            stripped += await notify.take_buttons(
                tx, services, chat_id, message_id, f"ballot-close:{marker}:{chat_id}:{message_id}"
            )
    services.outbox.wake()
    return stripped


async def set_window(services: Services, state: str) -> None:
    """An organiser opens or closes the window by hand."""
    async with services.db.transaction() as tx:
        await store.set_meta(tx, "ballot_window", state)
        if state == "open":
            round_ = int(await store.get_meta(services.db, "ballot_round") or "0") + 1
            await store.set_meta(tx, "ballot_round", str(round_))
            await store.set_meta(tx, "ballots_sent", "0")
    await sync_window(services)


def pseudonym(secret: str, user_id: int) -> str:
    return hmac.new(secret.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:20]


async def secret(services: Services) -> str:
    found = await store.get_meta(services.db, "ballot_secret")
    if found:
        return found
    async with services.db.transaction() as tx:
        await store.create_secret(tx, "ballot_secret", secrets.token_hex(32))
    made = await store.get_meta(services.db, "ballot_secret")
    assert made is not None
    return made


@dataclass(frozen=True)
class Cast:
    unit_id: str
    item_id: str
    answer: str | None  # None: withdrawn
    new: bool  # False: a replay of an answer already recorded


async def cast(
    services: Services,
    user_id: int,
    unit_id: str,
    item_id: str,
    index: int,
    update_id: int,
    where: tuple[int, int] | None,
) -> Cast:
    """Record an answer (pressing the answer already chosen withdraws it), once per update.
    Refused when the person is not an evaluator of the unit, the window is closed, or they
    answer too fast."""
    person = await evaluator(services, user_id)
    if person is None:
        raise UserError("ballots/not_evaluator")
    if (
        unit_id not in person.units
        or services.campaign.item(item_id) is None
        or not (0 <= index < len(ANSWERS))
    ):
        raise UserError("common/invalid_button")
    if not await is_open(services):
        raise UserError("ballots/closed")
    origin = f"update:{update_id}"
    voter = pseudonym(await secret(services), user_id)
    now = services.clock.now()
    async with services.db.transaction() as tx:
        if await store.already_logged(tx, origin):
            answer = await store.current(tx, user_id, unit_id, item_id)
            return Cast(unit_id, item_id, answer, new=False)
        if not services.throttle.allow(user_id, now):
            raise UserError("ballots/too_fast")
        current = await store.current(tx, user_id, unit_id, item_id)
        chosen = ANSWERS[index].value
        answer = None if current == chosen else chosen
        await store.record(
            tx, user_id, voter, unit_id, item_id, person.category, answer, now, origin
        )
        if where is not None:
            await store.remember_message(tx, user_id, unit_id, item_id, *where)
    return Cast(unit_id, item_id, answer, new=True)


@dataclass(frozen=True)
class Turnout:
    unit_id: str
    category: str
    evaluators: int
    answered: int  # ballots answered (of evaluators × items)
    expected: int


async def turnout(services: Services) -> list[Turnout]:
    """Per unit and category: evaluators, ballots answered, ballots expected. Counts only:
    nobody can see who answered what."""
    items = len(services.campaign.items)
    people: dict[tuple[str, str], int] = {}
    for person in await evaluators(services):
        for unit_id in person.units:
            key = (unit_id, person.category)
            people[key] = people.get(key, 0) + 1
    answered: dict[tuple[str, str], int] = {}
    for t in await tally_store.tallies(services.db):
        key = (t.unit_id, t.category)
        answered[key] = answered.get(key, 0) + t.count
    rows = []
    for unit in services.campaign.units:
        for category in services.campaign.categories:
            key = (unit.id, category.id)
            if key in people or key in answered:
                n = people.get(key, 0)
                rows.append(Turnout(unit.id, category.id, n, answered.get(key, 0), n * items))
    return rows


async def remind(services: Services) -> int:
    """Before the close, remind each evaluator with unanswered ballots, once at each of
    the campaign's reminder times (``[ballots] reminders_hours``)."""
    closes = await closes_at(services)
    if closes is None or not await is_open(services):
        return 0
    now = services.clock.now()
    due = [
        h
        for h in services.campaign.ballots.reminders_hours
        if now >= closes - dt.timedelta(hours=h)
    ]
    if not due:
        return 0
    hours = min(due)  # the latest reminder due (one at a time, each once)
    counts = await store.answered_counts(services.db)
    items = len(services.campaign.items)
    queued = 0
    async with services.db.transaction() as tx:
        for person in await evaluators(services):
            missing = len(person.units) * items - counts.get(person.user_id, 0)
            if missing <= 0:
                continue
            queued += await notify.notify(
                tx,
                services,
                person.user_id,
                "ballots/reminder",
                f"ballot-remind:{person.user_id}:{closes.isoformat()}:{hours}",
                values={"missing": missing, "closes": closes},
            )
    services.outbox.wake()
    return queued


async def watch_registrations(services: Services, now: dt.datetime) -> bool:
    """Tell the organisers (once an hour) when evaluator invites are being used
    unusually fast: more than 30 registrations within a minute."""
    recent = await role_store.invites_used_since(
        services.db, Role.EVALUATOR, now - dt.timedelta(minutes=1)
    )
    if recent <= 30:
        return False
    hour = now.strftime("%Y%m%d%H")
    async with services.db.transaction() as tx:
        await notify.notify_each(
            tx,
            services,
            sorted(services.campaign.organisers),
            "ballots/burst",
            f"invite-burst:{hour}",
            values={"count": recent},
        )
    services.outbox.wake()
    return True


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head: str
    problems: tuple[str, ...]


def verify(db_path: Path, published_head: str | None = None) -> Verification:
    """Recount the tallies from the log and check them against the stored ballots, the
    chain's links, and (if given) the head that was published."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    problems: list[str] = []
    try:
        prev = store.GENESIS
        last: dict[tuple[str, str, str], tuple[str, str | None]] = {}
        entries = 0
        for e in store.read_log(conn):
            entries += 1
            if e.prev != prev:
                problems.append(f"entry {e.seq}: does not follow the entry before it")
            expected = store.entry_hash(
                e.prev, e.voter, e.unit_id, e.item_id, e.category, e.answer, e.at
            )
            if expected != e.hash:
                problems.append(f"entry {e.seq}: its content does not match its hash")
            prev = e.hash
            last[(e.voter, e.unit_id, e.item_id)] = (e.category, e.answer)
        recount: dict[tally_store.Key, int] = {}
        for (_, unit_id, item_id), (category, answer) in last.items():
            if answer is not None:
                key = (unit_id, item_id, category, answer)
                recount[key] = recount.get(key, 0) + 1
        stored = store.stored_counts(conn)
        running = tally_store.running(conn)
        for key in sorted(set(recount) | set(stored) | set(running)):
            if recount.get(key, 0) != stored.get(key, 0):
                problems.append(
                    f"{'/'.join(key)}: the log counts {recount.get(key, 0)}, "
                    f"the ballots {stored.get(key, 0)}"
                )
            if running.get(key, 0) != stored.get(key, 0):
                problems.append(
                    f"{'/'.join(key)}: the running tally says {running.get(key, 0)}, "
                    f"the ballots {stored.get(key, 0)}"
                )
        if published_head is not None and published_head != prev:
            problems.append(f"the published head {published_head} is not the log's {prev}")
    finally:
        conn.close()
    return Verification(not problems, entries, prev, tuple(problems))
