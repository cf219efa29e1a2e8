"""The democratic evaluation (民主测评, design §6): evaluators, the window, the ballots.

Each evaluator has one ballot card (:mod:`bot.ballots.cards`): for each unit in scope and each
item, exactly the four answers 满意, 基本满意, 不满意, 不了解, in that order. An answer can be
changed until the close and the last one counts; pressing the answer already chosen
changes nothing. Every answer and change is appended to a hash-chained log; ballots and
log are kept under the evaluator's pseudonym, keyed with the ballot key that lives outside
the database (:mod:`bot.ballot_key`); :func:`verify` recounts the tallies from the log.

Ballots are buttons rather than native polls: a poll answer carries no chat, cannot be
confirmed on the poll, and a bot cannot show a voter which answer it recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bot.chat import keyboards, notify
from bot.db import audit
from bot.db import ballots as store
from bot.db import cards as card_store
from bot.db import roles as role_store
from bot.db import rounds as round_store
from bot.db import tallies as tally_store
from bot.db.database import Script
from bot.db.roles import ALL_UNITS, Grant
from bot.errors import UserError
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
    return services.campaign.evaluate_window()


async def window(services: Services) -> str:
    return await round_store.window(services.db)


async def is_open(services: Services) -> bool:
    return open_in(services, await window(services))


def open_in(services: Services, state: str) -> bool:
    """Whether the window is open now, the stored state being ``state``."""
    if state != "auto":
        return state == "open"
    start, end = phase_window(services)
    return start <= services.clock.now() <= end


async def window_now(services: Services) -> str:
    """The window as people should be told it: "open", "not started" (before the plan's
    phase, never opened) or "closed"."""
    if await is_open(services):
        return "open"
    state = await window(services)
    start, _ = phase_window(services)
    if state == "auto" and services.clock.now() < start:
        return "not started"
    return "closed"


async def closes_at(services: Services) -> dt.datetime | None:
    """When answers stop counting, if known (an organiser may also close by hand)."""
    return closes_in(services, await window(services))


def closes_in(services: Services, state: str) -> dt.datetime | None:
    """:func:`closes_at`, the stored window being ``state``."""
    return None if state != "auto" else phase_window(services)[1]


def _evaluators(services: Services, grants: list[Grant]) -> list[Evaluator]:
    all_units = tuple(u.id for u in services.campaign.units)
    found: dict[int, tuple[str, set[str]]] = {}
    for grant in grants:
        _, units = found.setdefault(grant.user_id, (grant.category or "", set()))
        units.update(all_units if grant.unit_id == ALL_UNITS else [grant.unit_id])
    return [
        Evaluator(uid, cat, tuple(u for u in all_units if u in units))
        for uid, (cat, units) in found.items()
    ]


async def evaluators(services: Services) -> list[Evaluator]:
    return _evaluators(services, await role_store.evaluator_grants(services.db))


async def evaluator(services: Services, user_id: int) -> Evaluator | None:
    return await services.db.read(evaluator_steps(services, user_id))


def evaluator_steps(services: Services, user_id: int) -> Script[Evaluator | None]:
    found = _evaluators(services, (yield from role_store.evaluator_grants_steps(user_id)))
    return found[0] if found else None


async def send_cards(services: Services, people: list[Evaluator]) -> int:
    """Queue each evaluator's card (once per opening of the window); return how many."""
    opening = await store.get_meta(services.db, "window_openings") or "0"
    queued = 0
    async with services.db.transaction() as tx:
        for person in people:
            key = f"card:{services.campaign.id}:{person.user_id}:{opening}"
            if await notify.card(tx, services, person.user_id, key):
                await card_store.new_card(tx, person.user_id)
                queued += 1
    services.outbox.wake()
    return queued


async def sync_window(services: Services) -> int:
    """The window's job: once it is open, every evaluator has their card; once it has
    closed, every card shows its final answers and loses its buttons. Safe to run any
    number of times."""
    if await is_open(services):
        if await store.get_meta(services.db, "ballots_sent") == "1":
            return 0
        sent = await send_cards(services, await evaluators(services))
        async with services.db.transaction() as tx:
            await store.set_meta(tx, "ballots_sent", "1")
        return sent
    return await finalise_cards(services)


async def finalise_cards(services: Services) -> int:
    """After the close: every live card is edited to its final answers, without buttons
    (through the outbox, within Telegram's limits)."""
    live = await card_store.live(services.db)
    for user_id in live:
        services.outbox.card_changed(user_id)
    return len(live)


async def set_window(services: Services, state: str, organiser_id: int, via: str = "chat") -> None:
    """An organiser opens or closes the window by hand."""
    async with services.db.transaction() as tx:
        await round_store.set_window(tx, state)
        await audit.record(tx, organiser_id, via, "window", services.clock.now(), "", state)
        if state == "open":
            # each opening by hand sends every card anew (a card key per opening)
            openings = int(await store.get_meta(services.db, "window_openings") or "0") + 1
            await store.set_meta(tx, "window_openings", str(openings))
            await store.set_meta(tx, "ballots_sent", "0")
    await sync_window(services)


@dataclass(frozen=True)
class Cast:
    unit_id: str
    item_id: str
    answer: str
    changed: bool  # False: the answer was chosen already (a double tap), or a replay


async def cast(
    services: Services, user_id: int, unit_id: str, item_id: str, index: int, update_id: int
) -> Cast:
    """Record an answer, once per update; the answer already chosen changes nothing.
    Refused when the person is not an evaluator of the unit, the window is closed, or they
    answer too fast. Whoever holds the database afterwards cannot tell whose answer it was:
    it is kept under the keyed pseudonym, and the update that carried it is forgotten.
    The checks and the press are one transaction: on SQLite one trip to the writer."""
    return await services.db.run(cast_steps(services, user_id, unit_id, item_id, index, update_id))


def cast_steps(
    services: Services, user_id: int, unit_id: str, item_id: str, index: int, update_id: int
) -> Script[Cast]:
    person = yield from evaluator_steps(services, user_id)
    if person is None:
        raise UserError("ballots/not_evaluator")
    if (
        unit_id not in person.units
        or services.campaign.item(item_id) is None
        or not (0 <= index < len(ANSWERS))
    ):
        raise UserError("common/invalid_button")
    if not open_in(services, (yield from round_store.window_steps())):
        raise UserError("ballots/closed")
    key = services.ballot_key
    origin, voter = key.origin(f"update:{update_id}"), key.pseudonym(user_id)
    chosen = ANSWERS[index].value
    now = services.clock.now()
    answered = yield from store.cast_steps(
        voter,
        unit_id,
        item_id,
        person.category,
        chosen,
        now,
        origin,
        update_id,
        lambda: services.throttle.allow(user_id, now),  # (on SQLite: in the writer's thread)
    )
    return Cast(unit_id, item_id, chosen, changed=answered == store.Answered.RECORDED)


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
    the campaign's reminder times (``[ballots] reminders_hours``): one message saying how
    many are missing, with a button that brings their card back."""
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
            answered = counts.get(services.ballot_key.pseudonym(person.user_id), 0)
            missing = len(person.units) * items - answered
            if missing <= 0:
                continue
            queued += await notify.notify(
                tx,
                services,
                person.user_id,
                "ballots/reminder",
                f"ballot-remind:{person.user_id}:{closes.isoformat()}:{hours}",
                values={"missing": missing, "closes": closes},
                keyboard=keyboards.bring_card(),
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
    head: str  # the current round's chain head
    problems: tuple[str, ...]
    heads: tuple[tuple[str, str, int], ...] = ()  # every round's (id, head, entries), in order


async def verify(target: Path | str, published_head: str | None = None) -> Verification:
    """Recount every round's tallies from its log and check them against the stored ballots
    and the running tallies, each round's chain links, and (if given) the head that was
    published, which must be the head of one round's chain (design §6, §12)."""
    found = await store.snapshot(str(target))
    return check(found, published_head)


def check(found: store.Snapshot, published_head: str | None = None) -> Verification:
    """What :func:`verify` finds in a snapshot."""
    problems: list[str] = []
    rounds = found.rounds
    heads: dict[str, str] = {r: store.GENESIS for r in rounds}
    counted: dict[str, int] = {r: 0 for r in rounds}
    last: dict[tuple[str, str, str, str], tuple[str, str | None]] = {}
    entries = 0
    for e in found.log:
        entries += 1
        prev = heads.get(e.round, store.GENESIS)
        if e.round not in heads:
            problems.append(f"entry {e.seq}: belongs to no round ({e.round!r})")
        if e.prev != prev:
            problems.append(f"entry {e.seq}: does not follow the entry before it")
        expected = store.entry_hash(
            e.prev, e.voter, e.unit_id, e.item_id, e.category, e.answer, e.at
        )
        if expected != e.hash:
            problems.append(f"entry {e.seq}: its content does not match its hash")
        heads[e.round] = e.hash
        counted[e.round] = counted.get(e.round, 0) + 1
        last[(e.round, e.voter, e.unit_id, e.item_id)] = (e.category, e.answer)
    recount: dict[tally_store.Key, int] = {}
    for (round_id, _, unit_id, item_id), (category, answer) in last.items():
        if answer is not None:
            key = (round_id, unit_id, item_id, category, answer)
            recount[key] = recount.get(key, 0) + 1
    stored = found.stored
    running = found.running
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
    current = heads[rounds[-1]] if rounds else store.GENESIS
    if published_head is not None and published_head not in heads.values():
        problems.append(
            f"the published head {published_head} is the head of no round's log "
            f"(the current round's is {current})"
        )
    return Verification(
        not problems,
        entries,
        current,
        tuple(problems),
        tuple((r, heads[r], counted[r]) for r in rounds),
    )
