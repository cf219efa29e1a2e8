"""Nothing in progress is lost: every step of every flow, crossed with every command and
every button the bot answers, and then the flow is finished with exactly what was entered.

The commands and the buttons come from the handler registration (``handlers.register``)
and the moves from the move table (``bot.cases.moves.MOVES``), not from a list kept here: a
command or a button kind added tomorrow fails :func:`test_every_command_and_button_is_in_the_table`
until it has a line below, and from then on it is crossed with every step.

The flows: a resident's opinion (who is also an evaluator with a rectified case of their
own, so ballots, ratings and case cards are theirs to press), an organiser's /record of an
opinion that came offline, and the two questions of a rectification plan for the office's
staff. Each run is one person: they walk the flow to a step, do the other thing, then
finish the flow; the case (or the move) must hold exactly what they typed and chose.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest

from bot.campaign import Campaign, load_campaign
from bot.cases.moves import MOVES, Actor, Fields, apply_move
from bot.cases.opinions import Filer, Opinion, file_opinion
from bot.chat.callbacks import Kind
from bot.db import cases as case_store
from bot.db import flows as flow_store
from bot.settings import REPO_EXAMPLE
from bot.standin import SimUser
from bot.vocabulary import Move, Role, Step
from tests.support.harness import ORGANISER, Harness
from tests.support.helpers import (
    done,
    errors_logged,
    invite_links,
    open_window,
    register,
    registered,
)

ORGANISERS = range(900_000_001, 900_000_061)  # each run of the organiser's flow has its own
EVALUATORS = range(910_001, 910_061)
STAFF = range(920_001, 920_061)
PARALLEL = 30  # people acting at once (each runs its share of the table, in order)

# The flows' own controls: ending or discarding a flow is their job, not an interruption.
OWN = {"cancel"}
OPINION_KINDS = {Kind.UNIT, Kind.ITEM, Kind.ATTACHED, Kind.IDENTITY, Kind.CONFIRM, Kind.CHANNEL}

# What each command is sent with (every registered command must be here).
COMMANDS: dict[str, list[str]] = {
    "start": [""],
    "help": [""],
    "myid": [""],
    "opinion": [""],
    "new": [""],
    "status": ["", "{case}"],
    "history": ["{case}"],
    "cases": [""],
    "overdue": [""],
    "invite": ["staff dongjie"],
    "ballots": [""],
    "ballot": [""],
    "turnout": [""],
    "console": [""],
    "daily": ["dongjie 9"],
    "rank": [""],
    "results": ["dongjie"],
    "flagged": [""],
    "proposal": ["dongjie 约谈所长"],
    "publish": [""],
    "subscribe": [""],
    "unsubscribe": [""],
    "record": [""],
    "finding": ["dongjie general X{n}"],
    "summary": [""],
    "newcases": ["", "each"],
    "hot": [""],
    "export": ["cases"],
}

# What each button kind is pressed with ({case}: the person's own case; {target}: a case
# of their office to act on; {stamp}: a run of a flow long over).
BUTTONS: dict[Kind, list[str]] = {
    Kind.MENU: ["m:opinion", "m:status", "m:help"],
    Kind.RESUME: ["r:go:{open}:-"],  # continuing is harmless; discarding is the flow's own end
    Kind.CANCEL: ["x:1"],  # a Cancel left over from an earlier run ends nothing
    Kind.PAGE: ["g:units:1", "g:open:1"],
    Kind.UNIT: ["u:xijie"],
    Kind.ITEM: ["i:lawful"],
    Kind.ATTACHED: ["a:done"],
    Kind.IDENTITY: ["n:named"],
    Kind.CONFIRM: ["c:send"],
    Kind.CHANNEL: ["h:forum"],
    Kind.CASE: ["k:{case}"],
    Kind.MOVE: [f"v:{{target}}:{move.value}" for move in MOVES],
    Kind.RATE: ["t:{case}:basic"],
    Kind.LIST: ["l:open"],
    Kind.FILES: ["f:{case}"],
    Kind.BALLOT: ["b:dongjie:service:0"],
    Kind.CARD: ["d:u:0", "d:l:0", "d:t:0", "d:i:service", "d:back:0"],
    Kind.WINDOW: ["w:reopen", "w:early"],
    Kind.PUBLISH: ["p:again"],
    Kind.CHOOSE: ["o:dongjie:1"],
}


def interjections(flow_kinds: set[Kind]) -> list[tuple[str, str]]:
    """("text", "/command args") and ("press", data) for everything but the flow's own."""
    commands, kinds = registered()
    found = [("text", f"/{c} {a}".strip()) for c in sorted(commands - OWN) for a in COMMANDS[c]]
    found += [("press", d) for k in sorted(kinds - flow_kinds) for d in BUTTONS[k]]
    return found


def test_every_command_and_button_is_in_the_table() -> None:
    commands, kinds = registered()
    assert commands - OWN - set(COMMANDS) == set(), "a command is missing from COMMANDS"
    assert kinds - set(BUTTONS) == set(), "a button kind is missing from BUTTONS"
    assert {d for d in BUTTONS[Kind.MOVE]} == {f"v:{{target}}:{m.value}" for m in Move}


# -- the people and their cases ----------------------------------------------------------------


@pytest.fixture
def campaign() -> Campaign:
    plan = load_campaign(REPO_EXAMPLE)
    return dataclasses.replace(plan, organisers=plan.organisers | frozenset(ORGANISERS))


async def quick_case(harness: Harness, author: int | None, key: str) -> int:
    """A case of dongjie, filed through the domain as a resident would (no chat needed)."""
    opinion = Opinion(
        step=Step.CONFIRM,
        unit_id="dongjie",
        item_id="service",
        parts=((1, f"旧案件 {key}"),),
        anonymous=True,
    )
    filer = Filer(author or ORGANISER, Role.RESIDENT, author, "某", "zh", None)
    case_id, _ = await file_opinion(harness.services, opinion, filer, hash(key) % 10**9)
    return case_id


async def move(harness: Harness, case_id: int, name: Move, roles: set[Role], **fields: Any) -> None:
    actor = Actor(ORGANISER, frozenset(roles), "测试")
    await apply_move(
        harness.services, case_id, name, actor, Fields(**fields), f"setup:{case_id}:{name}"
    )


async def substantiated(harness: Harness, key: str) -> int:
    case_id = await quick_case(harness, None, key)
    await move(harness, case_id, Move.GENERAL, {Role.ORGANISER}, reason="属实")
    return case_id


async def rectified(harness: Harness, author: int, key: str) -> int:
    """A case of ``author`` the office says it rectified: theirs to rate."""
    case_id = await substantiated(harness, key)
    deadline = harness.clock.now() + dt.timedelta(days=10)
    await move(harness, case_id, Move.PLAN, {Role.STAFF}, plan="方案", deadline=deadline)
    await move(harness, case_id, Move.COMPLETE, {Role.STAFF}, reason="完成")
    return case_id


# -- one run -------------------------------------------------------------------------------------


async def say(harness: Harness, person: SimUser, text: str) -> None:
    await done(harness, await person.send(text))


async def tap(harness: Harness, person: SimUser, label: str) -> None:
    """Press ``label`` on the flow's own question (the newest message with the label and
    a Cancel: a ballot card may name an item too)."""
    prompts = [
        m
        for m in person.transcript()
        if m.has_button(label) and any(d.startswith("x:") for row in m.data for d in row)
    ]
    target = person.current(prompts[-1].message_id) if prompts else None
    await done(harness, (await person.tap(label, target)).update_id)


async def interject(
    harness: Harness, person: SimUser, what: tuple[str, str], values: Mapping[str, object]
) -> None:
    kind, template = what
    stamp = await open_stamp(harness, person.id)
    filled = template.format(open=stamp, **values)
    if kind == "text":
        await say(harness, person, filled)
        return
    # pressed where such a button is (a ballot on the ballot), else on the newest message
    carrying = [m for m in person.transcript() if any(filled in row for row in m.data)]
    where = carrying[-1].message_id if carrying else person.latest().message_id
    await done(harness, (await person.press(where, filled)).update_id)


async def open_stamp(harness: Harness, user_id: int) -> int:
    flow = await flow_store.get_flow(harness.services.db, user_id)
    return flow.stamp if flow is not None else 1


Step_ = Callable[[], Awaitable[None]]


def opinion_steps(
    harness: Harness, person: SimUser, text: str, named: bool
) -> list[tuple[str, Step_]]:
    """A resident's opinion, step by step: (the step it answers, the action)."""
    return [
        ("start", lambda: say(harness, person, "/opinion")),
        ("unit", lambda: tap(harness, person, "东街街道社保所")),
        ("item", lambda: tap(harness, person, "服务质量")),
        ("text", lambda: say(harness, person, text)),
        ("attach", lambda: tap(harness, person, "不加附件")),
        ("identity", lambda: tap(harness, person, "实名" if named else "对单位匿名")),
        ("confirm", lambda: tap(harness, person, "确认提交")),
    ]


def record_steps(harness: Harness, person: SimUser, text: str) -> list[tuple[str, Step_]]:
    """An organiser's record of a letter from a named person."""
    return [
        ("start", lambda: say(harness, person, "/record")),
        ("channel", lambda: tap(harness, person, "征求意见函")),
        ("unit", lambda: tap(harness, person, "东街街道社保所")),
        ("item", lambda: tap(harness, person, "服务质量")),
        ("text", lambda: say(harness, person, text)),
        ("attach", lambda: tap(harness, person, "不加附件")),
        ("identity", lambda: tap(harness, person, "实名")),
        ("name", lambda: say(harness, person, "来信人张某")),
        ("confirm", lambda: tap(harness, person, "确认提交")),
    ]


def plan_steps(
    harness: Harness, person: SimUser, case_id: int, plan: str
) -> list[tuple[str, Step_]]:
    """The office's staff send a rectification plan: its text, then its deadline."""

    async def begin() -> None:
        await say(harness, person, f"/status {case_id}")
        await tap(harness, person, "整改方案")

    return [
        ("start", begin),
        ("plan", lambda: say(harness, person, plan)),
        ("deadline", lambda: say(harness, person, "15")),
    ]


async def cases_of_text(harness: Harness, text: str) -> list[case_store.Case]:
    rows = await harness.services.db.fetchall("SELECT id FROM cases WHERE text = ?", (text,))
    found = [await case_store.get_case(harness.services.db, int(r[0])) for r in rows]
    return [c for c in found if c is not None]


# -- the table -----------------------------------------------------------------------------------


async def run_table(
    harness: Harness,
    people: list[SimUser],
    runs: list[tuple[int, tuple[str, str]]],
    one: Callable[[SimUser, int, tuple[str, str], int], Awaitable[str | None]],
) -> list[str]:
    """Share ``runs`` (step, interjection) out to ``people``; each runs its share in order."""
    counter = itertools.count()
    shares: list[list[tuple[int, tuple[str, str]]]] = [[] for _ in people]
    for n, run in enumerate(runs):
        shares[n % len(people)].append(run)

    async def person_runs(person: SimUser, share: list[tuple[int, tuple[str, str]]]) -> list[str]:
        wrong = []
        for step, what in share:
            if await open_stamp(harness, person.id) != 1:
                await say(harness, person, "/cancel")  # what a failed run left behind
            try:
                problem = await one(person, step, what, next(counter))
            except AssertionError as exc:  # a button the flow needs was not there
                last = " | ".join(str(m)[:120] for m in person.transcript()[-3:])
                problem = f"{what[1]} after step {step}: {exc}; last: {last}"
            if problem:
                wrong.append(problem)
        return wrong

    with errors_logged() as errors:
        found = await asyncio.gather(
            *(person_runs(p, s) for p, s in zip(people, shares, strict=True))
        )
    return [w for ws in found for w in ws] + [r.getMessage() for r in errors.records]


@pytest.mark.timeout(1200)
async def test_a_resident_opinion_survives_everything_else(harness: Harness) -> None:
    organiser = harness.organiser()
    codes = []
    for _ in range(0, PARALLEL, 10):  # a message of links holds twenty at most
        codes += await invite_links(organiser, "/invite evaluator public_rep 10 dongjie")
    people = [harness.resident(uid, f"居民代表{n}") for n, uid in enumerate(EVALUATORS[:PARALLEL])]
    for person, code in zip(people, codes, strict=True):
        await register(harness, person, code)
    await open_window(organiser)
    await harness.settle()
    own = {p.id: await rectified(harness, p.id, f"own-{p.id}") for p in people}
    target = await quick_case(harness, None, "target-resident")
    steps = [s for s, _ in opinion_steps(harness, people[0], "", False)]
    runs = [(i, what) for i in range(len(steps) - 1) for what in interjections(OPINION_KINDS)]

    async def one(person: SimUser, step: int, what: tuple[str, str], n: int) -> str | None:
        text = f"第{n}次：窗口排队太久，{what[1]} 之后仍要提交。"
        named = n % 2 == 0
        walk = opinion_steps(harness, person, text, named)
        for _, action in walk[: step + 1]:
            await action()
        await interject(harness, person, what, {"case": own[person.id], "target": target, "n": n})
        for _, action in walk[step + 1 :]:
            await action()
        filed = await cases_of_text(harness, text)
        where = f"{what[1]} after step {walk[step][0]}"
        if len(filed) != 1:
            return f"{where}: {len(filed)} cases filed"
        case = filed[0]
        entered = (case.unit_id, case.item_id, case.anonymous, case.author_id, case.channel)
        if entered != ("dongjie", "service", not named, person.id, "telegram"):
            return f"{where}: filed as {entered}"
        return None

    wrong = await run_table(harness, people, runs, one)
    assert not wrong, "\n".join(wrong)


@pytest.mark.timeout(1200)
async def test_an_organisers_record_survives_everything_else(harness: Harness) -> None:
    people = [
        harness.standin.user(uid, f"纠风办{n}") for n, uid in enumerate(ORGANISERS[:PARALLEL])
    ]
    target = await quick_case(harness, None, "target-organiser")
    steps = [s for s, _ in record_steps(harness, people[0], "")]
    runs = [(i, what) for i in range(len(steps) - 1) for what in interjections(OPINION_KINDS)]

    async def one(person: SimUser, step: int, what: tuple[str, str], n: int) -> str | None:
        text = f"来信{n}：材料清单不清楚，{what[1]} 之后仍要登记。"
        walk = record_steps(harness, person, text)
        for _, action in walk[: step + 1]:
            await action()
        await interject(harness, person, what, {"case": target, "target": target, "n": n})
        for _, action in walk[step + 1 :]:
            await action()
        filed = await cases_of_text(harness, text)
        where = f"{what[1]} after step {walk[step][0]}"
        if len(filed) != 1:
            return f"{where}: {len(filed)} cases recorded"
        case = filed[0]
        entered = (case.unit_id, case.item_id, case.channel, case.anonymous, case.author_name)
        if entered != ("dongjie", "service", "letter", False, "来信人张某"):
            return f"{where}: recorded as {entered}"
        return None

    wrong = await run_table(harness, people, runs, one)
    assert not wrong, "\n".join(wrong)


@pytest.mark.timeout(1200)
async def test_the_questions_of_a_move_survive_everything_else(harness: Harness) -> None:
    organiser = harness.organiser()
    people = []
    for uid in STAFF[:PARALLEL]:
        await organiser.send("/invite staff dongjie")
        link = (await organiser.reply()).text
        person = harness.standin.user(uid, f"东街工作人员{uid}")
        await register(harness, person, link.split("start=")[1].split()[0])
        people.append(person)
    await harness.settle()
    steps = [s for s, _ in plan_steps(harness, people[0], 0, "")]
    runs = [(i, what) for i in range(len(steps) - 1) for what in interjections(set())]
    targets = {p.id: await quick_case(harness, None, f"target-{p.id}") for p in people}

    async def one(person: SimUser, step: int, what: tuple[str, str], n: int) -> str | None:
        case_id = await substantiated(harness, f"plan-{n}")
        plan = f"整改方案{n}：{what[1]} 之后仍要提交。"
        walk = plan_steps(harness, person, case_id, plan)
        for _, action in walk[: step + 1]:
            await action()
        values = {"case": targets[person.id], "target": targets[person.id], "n": n}
        await interject(harness, person, what, values)
        for _, action in walk[step + 1 :]:
            await action()
        where = f"{what[1]} after step {walk[step][0]}"
        history = await case_store.case_history(harness.services.db, case_id)
        plans = [e for e in history if e.move == Move.PLAN]
        if len(plans) != 1 or plans[0].plan != plan or plans[0].actor_id != person.id:
            return f"{where}: plan events {[(e.plan, e.actor_id) for e in plans]}"
        due = plans[0].due_at
        expected = (
            (harness.clock.now() + dt.timedelta(days=15)).astimezone(harness.campaign.tz).date()
        )
        if due is None or due.astimezone(harness.campaign.tz).date() != expected:
            return f"{where}: deadline {due}"
        return None

    wrong = await run_table(harness, people, runs, one)
    assert not wrong, "\n".join(wrong)
