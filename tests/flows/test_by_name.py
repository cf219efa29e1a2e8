"""The organiser runs the campaign by names: an office by its name or any part of it, a
category by its name, a case by its number. A part that fits several offices offers them
as buttons; the press runs the command with the office chosen, and nothing else."""

from __future__ import annotations

from bot.db import cases as case_store
from bot.standin import BotMessage, SimUser
from tests.support.harness import Harness
from tests.support.helpers import invite_links, register


async def ask(person: SimUser, text: str) -> BotMessage:
    person.skip_unread()
    await person.send(text)
    return await person.reply()


async def test_a_name_that_fits_several_offices_offers_them(harness: Harness) -> None:
    organiser = harness.organiser()
    asked = await ask(organiser, "/invite staff 街道")
    assert "有几个单位都符合“街道”" in asked.text
    assert asked.labels == ["东街街道社保所", "西街街道社保所", "南苑街道社保所"]
    await organiser.tap("西街街道社保所", asked)
    link = await organiser.reply()
    code = link.text.split("start=")[1].split()[0]
    staff = harness.standin.user(4101, "西街小王")
    assert "西街街道社保所" in await register(harness, staff, code)

    # the rest of the command is kept as typed: severity, reference (a case by its number)
    asked = await ask(organiser, "/finding 街道 一般 第17号 区里查实")
    await organiser.tap("南苑街道社保所", asked)
    recorded = (await organiser.reply()).text
    assert "南苑街道社保所" in recorded and "第 17 号" in recorded and "case-" not in recorded
    findings = await harness.services.db.fetchall("SELECT unit_id, ref, text FROM findings")
    assert [tuple(r) for r in findings] == [("nanyuan", "case-17", "区里查实")]

    # a button of an earlier question runs nothing; pressing it twice records once
    first = await ask(organiser, "/daily 街道 9")
    second = await ask(organiser, "/daily 街道 8")
    tap = await organiser.tap("东街街道社保所", first)
    assert "过时" in ((await tap.answer()).text or "")
    await organiser.tap("东街街道社保所", second)
    assert "东街街道社保所日常工作考核得分：8.00" in (await organiser.reply()).text
    tap = await organiser.tap("东街街道社保所", second)
    assert "过时" in ((await tap.answer()).text or "")
    scores = await harness.services.db.fetchall("SELECT unit_id, score FROM daily_scores")
    assert [(r[0], float(r[1])) for r in scores] == [("dongjie", 8.0)]

    # two parts of a list, each asked in turn
    asked = await ask(organiser, "/invite supervisor 东街、街道")
    await organiser.tap("南苑街道社保所", asked)
    assert "start=inv-" in (await organiser.reply()).text
    rows = await harness.services.db.fetchall(
        "SELECT units FROM invites WHERE role = ?", ("supervisor",)
    )
    assert [r[0] for r in rows] == ['["dongjie", "nanyuan"]']


async def test_someone_else_cannot_use_an_organisers_choice(harness: Harness) -> None:
    organiser = harness.organiser()
    asked = await ask(organiser, "/finding 街道 一般 X1")
    data = asked.data[0][0]
    resident = harness.resident(4201)
    refused = await ask(resident, "/finding 街道 一般 X2")
    assert "您的身份不能进行这项操作" in refused.text and not refused.labels
    tap = await resident.press(asked.message_id, data)  # forged: the organiser's button
    assert "过时" in ((await tap.answer()).text or "")
    await harness.settle()
    assert await harness.services.db.fetchall("SELECT * FROM findings") == []
    assert await case_store.count_cases(harness.services.db) == 0


async def test_categories_and_offices_by_name_in_invitations(harness: Harness) -> None:
    organiser = harness.organiser()
    links = await invite_links(organiser, "/invite evaluator 人大 2 东街、南苑")
    assert len(links) == 2
    listing = organiser.transcript()[-2].text
    assert "人大代表" in listing and "东街街道社保所、南苑街道社保所" in listing
    several = await ask(organiser, "/invite evaluator 代表 2")
    assert "有几个测评类别都符合“代表”" in several.text and "人大代表" in several.text
    none = await ask(organiser, "/invite evaluator 居民 2")
    assert "没有叫“居民”的测评类别" in none.text and "npc_deputy" not in none.text
    usage = await ask(organiser, "/invite evaluator")
    assert "人大代表" in usage.text and "npc_deputy" not in usage.text
    rows = await harness.services.db.fetchall("SELECT category, units FROM invites")
    assert {tuple(r) for r in rows} == {("npc_deputy", '["dongjie", "nanyuan"]')}


async def test_the_organisers_help_shows_each_commands_arguments_by_name(harness: Harness) -> None:
    organiser = harness.organiser()
    shown = (await ask(organiser, "/help")).text
    assert "/daily 单位 分数 — 录入日常工作考核得分" in shown
    assert "/finding 单位 一般|处分 案件编号或其他编号" in shown and "/daily 东街 9.5" in shown
    resident = harness.resident(4501)
    assert "/daily" not in (await ask(resident, "/help")).text
