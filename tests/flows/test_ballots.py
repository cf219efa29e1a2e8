"""The democratic evaluation through the stand-in: invites, the window, ballots, tallies,
the log that recounts them."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest

from bot.ballots import evaluation as ballots
from bot.db import ballots as ballot_store
from bot.db import tallies as tally_store
from bot.standin import FloodLimits, SimUser
from scoring import ANSWERS
from tests.support.harness import Harness
from tests.support.helpers import card_of, invite_links, open_window, press, register, staffed

pytestmark = pytest.mark.telegram_pace  # about pacing, or under Telegram's limits

CATEGORIES = (
    "service_user",
    "npc_deputy",
    "cppcc_member",
    "integrity_supervisor",
    "evaluation_rep",
    "public_rep",
)
ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")


@pytest.fixture(autouse=True)
def telegram_limits(harness: Harness) -> None:
    """Telegram's sending limits on: 30 a second, one a second a chat (edits included,
    short bursts allowed), 20 a minute a group."""
    harness.standin.api.limits = FloodLimits.telegram()


ANSWER_NAMES = ("满意", "基本满意", "不满意", "不了解")


@pytest.mark.on_postgresql
async def test_sixty_evaluators_and_their_tallies(harness: Harness) -> None:
    organiser = harness.organiser()
    people: list[tuple[SimUser, str]] = []
    for c, category in enumerate(CATEGORIES):
        for n, code in enumerate(
            await invite_links(organiser, f"/invite evaluator {category} 10 dongjie")
        ):
            person = harness.standin.user(5000 + 10 * c + n, f"{category}-{n}")
            assert "测评代表" in await register(harness, person, code)
            people.append((person, category))
    organiser.skip_unread()
    await organiser.send("/turnout")  # before the plan's phase, never opened: not started
    assert "测评参与情况 · 尚未开始" in (await organiser.reply()).text
    await organiser.send("/ballots open")  # before the plan's phase: it asks first
    asked = await organiser.reply()
    assert "还没有开始" in asked.text and "测评已开放" not in asked.text
    assert "测评已开放" in (await open_window(organiser)).text
    await organiser.send("/turnout")
    assert "测评参与情况 · 进行中" in (await organiser.reply()).text
    await harness.settle()
    for person, _ in people:
        cards = [m for m in person.transcript() if m.buttons and "🗳" in m.text]
        assert len(cards) == 1  # one message: the card
        card = cards[0]
        assert "东街街道社保所" in card.text
        # each item by name, then its four answers in the plan's order
        assert card.buttons[0] == ("1. 信息公开",) and card.buttons[1] == ANSWER_NAMES
        assert len([row for row in card.buttons if row == ANSWER_NAMES]) == 5

    expected: Counter[tuple[str, str, str]] = Counter()
    for i, (person, category) in enumerate(people):
        for j, item in enumerate(ITEMS):
            final = (i + j) % 4
            if i % 5 == 0:  # changes their mind: only the last answer counts
                assert "已记录" in await press(person, item, (final + 1) % 4, harness)
            said = await press(person, item, final, harness)
            assert f"已记录：{ANSWER_NAMES[final]}" in said
            if i % 7 == 0 and j == 0:  # a double tap: the answer stays, and it says so
                assert "没有改变" in await press(person, item, final, harness)
            expected[(item, category, ANSWERS[final].value)] += 1
    await harness.settle()
    card = card_of(people[1][0])  # the card shows what is stored
    assert "信息公开：基本满意" in card.text and "依法办事：不满意" in card.text
    assert "已答 5 / 5 项" in card.text
    assert card.buttons[1] == ("满意", "✅基本满意", "不满意", "不了解")

    tallies = {
        (t.item_id, t.category, t.answer): t.count
        for t in await tally_store.tallies(harness.services.db)
    }
    assert tallies == dict(expected)
    assert sum(tallies.values()) == 300

    await organiser.send("/turnout")
    turnout = (await organiser.reply()).text
    assert "管理服务对象：10 人，已答 50 / 50 项（100%）" in turnout

    # the close: answers refused and not counted; every card shows its final answers and
    # loses its buttons
    await organiser.send("/ballots close")
    assert "测评已结束" in (await organiser.reply()).text
    late = await press(people[3][0], "service", 0, harness)
    assert "测评已结束，这次选择没有计入" in late
    await harness.settle()
    after = {
        (t.item_id, t.category, t.answer): t.count
        for t in await tally_store.tallies(harness.services.db)
    }
    assert after == tallies
    for person, _ in people:
        closed = person.current(card_of_final(person))
        assert closed.buttons == () and "民主测评已结束" in closed.text
    assert "依法办事：不满意" in person_final_text(people[1][0])
    # opening again after a close asks first
    await organiser.send("/ballots open")
    assert "确定重新开放吗" in (await organiser.reply()).text


def card_of_final(user: SimUser) -> int:
    """The message id of the evaluator's (final) card."""
    return max(m.message_id for m in user.transcript() if "🗳" in m.text)


def person_final_text(user: SimUser) -> str:
    return user.current(card_of_final(user)).text


async def test_codes_are_single_use_and_staff_cannot_evaluate_their_unit(
    harness: Harness,
) -> None:
    organiser = harness.organiser()
    [code] = await invite_links(organiser, "/invite evaluator public_rep 1 dongjie")
    first = harness.standin.user(5101, "代表甲")
    assert "测评代表" in await register(harness, first, code)
    second = harness.standin.user(5102, "代表乙")
    assert "已被他人使用" in await register(harness, second, code)
    staff = await staffed(harness, "dongjie", 5103)
    [other] = await invite_links(organiser, "/invite evaluator public_rep 1 dongjie")
    assert "单位工作人员不能评议本单位" in await register(harness, staff, other)
    await organiser.send("/invite evaluator nobody 3")
    assert "没有叫“nobody”的测评类别" in (await organiser.reply()).text
    # someone who is not an evaluator cannot answer, even with a well-formed button
    stranger = harness.resident(5104)
    tap = await stranger.press(1, "b:dongjie:service:0")
    assert "只有登记的测评代表" in ((await tap.answer()).text or "")
    assert await tally_store.tallies(harness.services.db) == []


async def test_registering_while_open_gets_the_ballots_at_once(harness: Harness) -> None:
    organiser = harness.organiser()
    await open_window(organiser)
    [code] = await invite_links(organiser, "/invite evaluator npc_deputy 1 xijie")
    late = harness.standin.user(5201, "迟到的代表")
    await register(harness, late, code)
    await harness.settle()
    cards = [m for m in late.transcript() if "🗳" in m.text]
    assert len(cards) == 1 and "西街街道社保所" in cards[0].text  # the card, at once


@pytest.mark.on_postgresql
async def test_verify_passes_on_an_honest_database_and_fails_on_a_changed_ballot(
    harness: Harness,
) -> None:
    organiser = harness.organiser()
    codes = await invite_links(organiser, "/invite evaluator public_rep 2 dongjie")
    voters = []
    for n, code in enumerate(codes):
        person = harness.standin.user(5300 + n, f"代表{n}")
        await register(harness, person, code)
        voters.append(person)
    await open_window(organiser)
    await harness.settle()
    for person in voters:
        await press(person, "service", 0, harness)
        await press(person, "service", 2, harness)  # changed
    await press(voters[1], "service", 2, harness)  # the same again: unchanged, not logged
    await harness.settle()
    head = await ballot_store.head(harness.services.db)
    counted = {
        (t.item_id, t.answer): t.count for t in await tally_store.tallies(harness.services.db)
    }
    assert counted == {("service", "unsatisfied"): 2}  # the running tally followed both

    def verify(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "verify", "--db", str(harness.db_path), *extra],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    honest = verify("--head", head)
    assert honest.returncode == 0, honest.stderr
    assert "4 log entries recount to the stored tallies" in honest.stdout
    first = harness.services.ballot_key.pseudonym(5300)
    assert verify("--head", "0" * 64).returncode == 1  # not the head that was published
    conn = sqlite3.connect(harness.db_path)
    with conn:
        conn.execute("UPDATE ballots SET answer = 'satisfied' WHERE voter = ?", (first,))
    conn.close()
    tampered = verify()
    assert tampered.returncode == 1
    assert "service/public_rep/satisfied: the log counts 0, the ballots 1" in tampered.stderr
    assert (await ballots.verify(harness.db)).ok is False
    conn = sqlite3.connect(harness.db_path)
    with conn:
        conn.execute("UPDATE ballots SET answer = 'unsatisfied' WHERE voter = ?", (first,))
        conn.execute("UPDATE tallies SET count = count + 2 WHERE answer = 'unsatisfied'")
    conn.close()
    skewed = verify()
    assert skewed.returncode == 1
    assert "the running tally says 4, the ballots 2" in skewed.stderr
    assert "the log counts" not in skewed.stderr


async def test_the_phase_opens_the_window_and_evaluators_are_reminded_once(
    harness: Harness,
) -> None:
    organiser = harness.organiser()
    codes = await invite_links(organiser, "/invite evaluator service_user 2 nanyuan")
    people = []
    for n, code in enumerate(codes):
        person = harness.standin.user(5400 + n, f"服务对象{n}")
        await register(harness, person, code)
        people.append(person)
    await harness.settle()  # registration finishes before the clock moves
    services = harness.services
    assert not await ballots.is_open(services)  # November 2026: long before the phase
    assert await ballots.sync_window(services) == 0
    tz = harness.campaign.tz
    harness.clock.set(dt.datetime(2027, 7, 1, 8, 0, tzinfo=tz))  # the evaluate phase
    assert await ballots.is_open(services)
    assert await ballots.sync_window(services) == 2  # a card each
    assert await ballots.sync_window(services) == 0
    await harness.settle()
    await press(people[0], "service", 1, harness, "nanyuan")
    for item in ITEMS:
        await press(people[1], item, 0, harness, "nanyuan")  # this one answers everything
    await harness.settle()
    harness.clock.set(dt.datetime(2027, 9, 29, 8, 0, tzinfo=tz))  # two days before the end
    assert await ballots.remind(services) == 0
    harness.clock.set(dt.datetime(2027, 9, 30, 8, 0, tzinfo=tz))  # within a day of it
    assert await ballots.remind(services) == 1  # only the one with unanswered ballots
    assert await ballots.remind(services) == 0  # never twice
    await harness.settle()
    reminder = people[0].transcript()[-1]
    assert "您还有 4 项没有作答" in reminder.text and reminder.labels == ["🗳 打开我的测评卡"]
    await people[0].tap("打开我的测评卡")  # brings the card back to the bottom of the chat
    await harness.settle()
    assert "服务质量：基本满意" in card_of(people[0]).text
    harness.clock.set(dt.datetime(2027, 9, 30, 22, 30, tzinfo=tz))  # the 2-hour reminder
    assert await ballots.remind(services) == 1
    assert await ballots.remind(services) == 0
    harness.clock.set(dt.datetime(2027, 10, 1, 8, 0, tzinfo=tz))  # the phase is over
    assert not await ballots.is_open(services)
    late = await press(people[0], "lawful", 0, harness, "nanyuan")
    assert "测评已结束" in late
    assert await ballots.sync_window(services) == 2  # both cards are finalised
    await harness.settle()
    assert card_of_final_buttons(people[1]) == ()


def card_of_final_buttons(user: SimUser) -> tuple[tuple[str, ...], ...]:
    return user.current(card_of_final(user)).buttons


async def test_many_invitations_come_in_pages_each_with_its_qr_sheet(harness: Harness) -> None:
    organiser = harness.organiser()
    await organiser.send("/invite evaluator public_rep 45")
    pages = await organiser.replies(6, timeout=30)
    assert [m.kind for m in pages] == ["text", "photo"] * 3
    links = [link for m in pages for link in re.findall(r"start=(inv-[\w-]+)", m.text)]
    assert len(set(links)) == 45
    assert "41. " in pages[4].text and "45. " in pages[4].text  # numbered across pages


async def test_a_burst_of_answers_is_slowed_and_fast_invites_are_reported(
    harness: Harness,
) -> None:
    organiser = harness.organiser()
    codes = await invite_links(organiser, "/invite evaluator public_rep 20")
    codes += await invite_links(organiser, "/invite evaluator public_rep 20")
    people = []
    for n, code in enumerate(codes[:31]):  # 31 registrations within a minute
        person = harness.standin.user(5600 + n, f"代表{n}")
        await register(harness, person, code)
        people.append(person)
    await harness.settle()
    warned = [m for m in organiser.transcript() if "最近一分钟内有" in m.text]
    assert len(warned) == 1 and "31 个测评邀请" in warned[0].text
    await open_window(organiser)
    await harness.settle()
    quick = people[0]
    answers = []
    for index in range(3):  # one account changing answers as fast as it can
        for item in ITEMS:
            answers.append(await press(quick, item, index, harness))
    assert "操作太快了" in answers[-1]
    assert sum("操作太快了" in a for a in answers) == 3  # 12 in ten seconds, then slowed
    refused = await harness.services.db.fetchval(
        "SELECT COUNT(*) FROM ballot_log WHERE voter = (SELECT voter FROM ballot_log LIMIT 1)"
    )
    assert refused == 12  # the slowed answers changed nothing
    harness.clock.advance(dt.timedelta(seconds=10))
    assert "操作太快了" not in await press(quick, ITEMS[0], 3, harness)  # ten seconds later
