"""A city's campaign: 300 offices. Every keyboard and every list fits Telegram's limits
(the stand-in refuses what Telegram refuses: 4,096 characters, 100 buttons, 8 a row, about
10 kB of markup), and no office is dropped or shown twice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from bot.app import EvalBot
from bot.campaign import Campaign, Named, load_campaign
from bot.cases import digest
from bot.cases.opinions import Filer, Opinion, file_opinion
from bot.clock import FakeClock
from bot.db import cases as case_store
from bot.db.cases import NewCase
from bot.settings import REPO_EXAMPLE
from bot.standin import BotMessage, SimUser, StandIn
from bot.vocabulary import CaseState, Role, Step
from tests.support.harness import START, Harness, database
from tests.support.helpers import done, invite_links, register

OFFICES = 300


def name(n: int) -> str:
    return f"第{n:03d}街道社保所"


@pytest.fixture
def campaign() -> Campaign:
    plan = load_campaign(REPO_EXAMPLE)
    units = tuple(Named(f"u{n:03d}", name(n), f"Office {n}") for n in range(1, OFFICES + 1))
    return dataclasses.replace(plan, units=units)


@pytest.fixture
async def harness(tmp_path: Path, campaign: Campaign, backend: str) -> AsyncIterator[Harness]:
    async with StandIn() as standin:
        db, key_path = await database(backend, tmp_path)
        harness = Harness(standin, cast(EvalBot, None), FakeClock(START), campaign, db, key_path)
        harness.bot = harness.new_bot()
        await harness.bot.start()
        try:
            yield harness
        finally:
            await harness.bot.stop()


async def answer_to(harness: Harness, person: SimUser, text: str) -> list[BotMessage]:
    """Everything the bot said in answer to ``text`` (however many messages)."""
    person.skip_unread()
    await person.send(text)
    await harness.settle()
    return person.unread()


def offices_in(messages: list[BotMessage]) -> Counter[str]:
    return Counter(re.findall(r"第\d{3}街道社保所", "\n".join(m.text for m in messages)))


def ids_in(messages: list[BotMessage]) -> Counter[str]:
    return Counter(re.findall(r"\bu\d{3}\b", "\n".join(m.text for m in messages)))


EVERY = Counter({name(n): 1 for n in range(1, OFFICES + 1)})
EVERY_ID = Counter({f"u{n:03d}": 1 for n in range(1, OFFICES + 1)})


async def test_a_resident_finds_an_office_among_three_hundred(harness: Harness) -> None:
    harness.organiser()  # has opened the bot: told of the new case
    resident = harness.resident(4001)
    await resident.send("/opinion")
    first = await resident.reply()
    assert first.labels[:8] == [name(n) for n in range(1, 9)]  # a page at a time
    assert "输入单位名称中的几个字" in first.text
    seen: list[str] = []
    page = first
    for _ in range(OFFICES):  # turn every page: each office once, in order
        seen += [label for label in page.labels if "社保所" in label]
        if not page.has_button("下一页"):
            break
        await done(harness, (await resident.tap("下一页", page)).update_id)
        page = resident.current(page.message_id)  # the same question, the next page
    assert seen == [name(n) for n in range(1, OFFICES + 1)]
    await resident.send("第12")  # a few characters find the offices that hold them
    found = await resident.reply()
    assert [b for b in found.labels if "社保所" in b] == [name(n) for n in range(120, 128)]
    await resident.send("第123街道")
    assert "已找到：第123街道社保所" in (await resident.reply()).text
    await resident.tap("服务质量")
    await resident.reply()
    await resident.send("窗口排队太久。")
    await resident.reply()
    await resident.tap("不加附件")
    await resident.reply()
    await resident.tap("对单位匿名")
    await resident.reply()
    await resident.tap("确认提交")
    assert "提交成功" in (await resident.reply()).text
    row = await harness.services.db.fetchone("SELECT unit_id FROM cases")
    assert row is not None and row[0] == "u123"
    assert harness.standin.world.refusals == []


async def test_every_list_fits_and_holds_each_office_once(harness: Harness) -> None:
    services = harness.services
    now = harness.clock.now()
    async with services.db.transaction() as tx:  # an opinion about every office (stored
        for n in range(1, OFFICES + 1):  # as filing stores it, without 300 notices)
            new = NewCase(
                f"u{n:03d}",
                "service",
                f"第{n}条意见：窗口排队太久，材料清单不清楚。",
                "telegram",
                None,
                5000 + n,
                True,
                "居民",
                "zh",
            )
            await case_store.file_case(
                tx, new, f"city:{n}", CaseState.FILED, (5000 + n, Role.RESIDENT), now
            )
    organiser = harness.organiser()
    [code] = await invite_links(organiser, "/invite evaluator public_rep 1")
    await register(harness, harness.standin.user(4100, "测评代表"), code)
    supervisor = harness.standin.user(4101, "监督员")
    [link] = [
        m for m in await answer_to(harness, organiser, "/invite supervisor") if "start=" in m.text
    ]
    await register(harness, supervisor, link.text.split("start=")[1].split()[0])
    harness.standin.world.refusals.clear()

    for command in ("/rank", "/summary", "/hot", "/turnout"):
        said = await answer_to(harness, organiser, command)
        assert offices_in(said) >= EVERY and set(offices_in(said)) == set(EVERY), command
        if command in ("/rank", "/summary", "/turnout"):
            assert offices_in(said) == EVERY, command  # once each
        assert len(said) > 1, command  # too long for one message: split, nothing lost
    for usage in ("/daily", "/finding", "/invite"):  # usage texts list the offices by name
        said = await answer_to(harness, organiser, usage)
        assert offices_in(said) == EVERY and not ids_in(said), usage
    said = await answer_to(harness, organiser, "/results nowhere")  # the closest, not 300
    assert "没有叫“nowhere”的单位" in said[0].text and 0 < len(offices_in(said)) <= 20
    for named in ("/results u007", "/results 第007", "/results 第007街道社保所"):
        said = await answer_to(harness, organiser, named)
        assert "第007街道社保所" in said[0].text, named
    said = await answer_to(harness, organiser, "/flagged")
    assert said and harness.standin.world.refusals == []
    # case lists page: twenty at a time, every case once
    listed: list[str] = []
    said = await answer_to(harness, supervisor, "/cases")
    for _ in range(OFFICES):
        listed += re.findall(r"第 (\d+) 号", said[-1].text)
        if not said[-1].has_button("下一页"):
            break
        supervisor.skip_unread()
        await done(harness, (await supervisor.tap("下一页", said[-1])).update_id)
        said = supervisor.unread()
    assert sorted(map(int, listed)) == list(range(1, OFFICES + 1))
    assert harness.standin.world.refusals == []


async def file_quickly(harness: Harness, unit_id: str, n: int) -> int:
    """A case of ``unit_id`` filed through the domain, as a resident's confirmation does."""
    opinion = Opinion(
        step=Step.CONFIRM, unit_id=unit_id, item_id="service", parts=((1, f"意见 {n}"),),
        anonymous=True,
    )  # fmt: skip
    filer = Filer(5000 + n, Role.RESIDENT, 5000 + n, "某", "zh", None)
    case_id, _ = await file_opinion(harness.services, opinion, filer, 900_000 + n)
    return case_id


async def test_organisers_of_a_city_get_new_cases_as_a_digest(harness: Harness) -> None:
    organiser = harness.organiser()
    await organiser.send("/newcases")
    assert "每小时汇总一次" in (await organiser.reply()).text  # the default at 300 offices
    await digest.send_digests(harness.services)  # the first run starts the digest
    for n, unit in enumerate(["u001", "u001", "u002", "u150"]):
        await file_quickly(harness, unit, n)
    await harness.settle()
    assert not any("新案件" in m.text for m in organiser.unread())  # no message per case
    assert await digest.send_digests(harness.services) == 0  # the hour is not over
    harness.clock.advance(dt.timedelta(minutes=61))
    assert await digest.send_digests(harness.services) == 1
    await harness.settle()
    sent = organiser.unread()[-1]
    assert "新案件" in sent.text and "共 4 件" in sent.text
    lines = [line for line in sent.text.splitlines() if line.startswith("·")]
    assert lines == ["· 第001街道社保所 2", "· 第002街道社保所 1", "· 第150街道社保所 1"]
    assert sent.data == (("l:open",),)  # the open cases, in chat (no console here)
    harness.clock.advance(dt.timedelta(minutes=61))
    assert await digest.send_digests(harness.services) == 0  # nothing new: nothing sent
    organiser.skip_unread()
    await organiser.send("/newcases each")
    assert "逐件" in (await organiser.reply()).text
    await file_quickly(harness, "u007", 9)
    await harness.settle()
    assert any("新案件第 5 号" in m.text for m in organiser.unread())
    organiser.skip_unread()
    await organiser.send("/newcases 3")
    assert "用法" in (await organiser.reply()).text
