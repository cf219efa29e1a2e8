"""The ballot card (design §6): one message per evaluator, safe taps, edits coalesced within
Telegram's limits, one live card, and a secret ballot that holds against a copy of the
database."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.ballots import evaluation as ballots
from bot.db import ballots as ballot_store
from bot.standin import FloodLimits, SimUser
from tests.support.harness import Harness
from tests.support.helpers import card_of, evaluators, invite_links, press, register, restart

pytestmark = pytest.mark.telegram_pace  # about pacing, or under Telegram's limits

ANSWERS = ("满意", "基本满意", "不满意", "不了解")
ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")


@pytest.fixture(autouse=True)
def telegram_limits(harness: Harness) -> None:
    """Telegram's sending limits on: 30 a second, one a second a chat (edits included,
    short bursts allowed), 20 a minute a group."""
    harness.standin.api.limits = FloodLimits.telegram()


async def stored(harness: Harness, user: SimUser) -> dict[tuple[str, str], str]:
    voter = harness.services.ballot_key.pseudonym(user.id)
    return await ballot_store.answers_of(harness.services.db, voter)


async def test_a_double_tap_keeps_the_answer(harness: Harness) -> None:
    [person] = await evaluators(harness, 1)
    assert "已记录：满意" in await press(person, "service", 0, harness)
    assert "已是“满意”，没有改变" in await press(person, "service", 0, harness)  # a double tap
    assert "已是“满意”，没有改变" in await press(person, "service", 0, harness)
    await harness.settle()
    assert await stored(harness, person) == {("dongjie", "service"): "satisfied"}
    log = await harness.services.db.fetchval("SELECT COUNT(*) FROM ballot_log")
    assert log == 1  # the taps that changed nothing are not in the log
    assert "服务质量：满意" in card_of(person).text
    assert "已记录：不满意" in await press(person, "service", 2, harness)  # another replaces it
    assert await stored(harness, person) == {("dongjie", "service"): "unsatisfied"}


async def test_rapid_presses_end_with_the_card_equal_to_the_store(harness: Harness) -> None:
    [person] = await evaluators(harness, 1, "")  # every office
    sent_before = harness.standin.world.calls.get("editMessageText", 0)
    refused_before = harness.standin.limits.refused
    pressed = 0
    for n, item in enumerate(ITEMS):  # faster than a chat may be edited
        for unit in ("dongjie", "xijie"):
            said = await press(person, item, (n + len(unit)) % 4, harness, unit)
            assert "已记录" in said  # every press confirmed at once by its pop-up
            pressed += 1
    await harness.settle()
    card = card_of(person)
    answers = await stored(harness, person)
    assert len(answers) == pressed
    for n, named in enumerate(harness.campaign.items):
        expected = ANSWERS[(n + len("dongjie")) % 4]
        assert f"{n + 1}. {named.name}：{expected}" in card.text  # the card shows the store
    edits = harness.standin.world.calls.get("editMessageText", 0) - sent_before
    assert 1 <= edits < pressed  # coalesced: fewer edits than presses
    assert harness.standin.limits.refused == refused_before  # and none of them refused


async def test_the_card_moves_between_offices_and_shows_what_is_left(harness: Harness) -> None:
    [everywhere] = await evaluators(harness, 1, "")
    card = card_of(everywhere)
    assert "第 1 / 3 个单位" in card.text and card.buttons[-2] == (
        "◀️ 上一个",
        "📋 单位列表",
        "下一个 ▶️",
    )
    await everywhere.tap("下一个")
    await harness.settle()
    assert "西街街道社保所" in card_of(everywhere).text
    await press(everywhere, "service", 1, harness, "xijie")
    await everywhere.tap("未答")
    await harness.settle()
    todo = card_of(everywhere)
    assert "还有 14 项未答" in todo.text or "14" in todo.text
    assert "东街街道社保所（还差 5 项）" in todo.labels
    await everywhere.tap("单位列表")
    await harness.settle()
    listing = card_of(everywhere)
    assert "西街街道社保所 1/5" in listing.labels
    await everywhere.tap("西街街道社保所 1/5")
    await harness.settle()
    assert "服务质量：基本满意" in card_of(everywhere).text
    # an evaluator of one office sees just that office
    organiser = harness.organiser()
    [code] = await invite_links(organiser, "/invite evaluator npc_deputy 1 nanyuan")
    scoped = harness.standin.user(7790, "南苑代表")
    await register(harness, scoped, code)
    await harness.settle()
    card = card_of(scoped)
    assert "南苑街道社保所" in card.text and "个单位" not in card.text
    assert not any("单位列表" in b for b in card.labels)


async def test_a_press_on_an_old_card_counts_and_points_to_the_live_one(harness: Harness) -> None:
    [person] = await evaluators(harness, 1)
    old = card_of(person)
    await press(person, "lawful", 1, harness)
    await person.send("/ballot")  # the card comes back to the bottom of the chat
    await harness.settle()
    new = card_of(person)
    assert new.message_id > old.message_id and "依法办事：基本满意" in new.text
    disabled = person.current(old.message_id)
    assert disabled.buttons == () and "已移到聊天最下方" in disabled.text
    # a client still showing the old card: the press counts, and says where the card is
    tap = await person.press(old.message_id, "b:dongjie:lawful:3")
    said = (await tap.answer()).text or ""
    assert "已记录：不了解" in said and "这张测评卡已停用" in said, said
    await harness.settle()
    assert await stored(harness, person) == {("dongjie", "lawful"): "unknown"}
    assert "依法办事：不了解" in card_of(person).text
    assert card_of(person).message_id == new.message_id  # the card in use stays in use
    tap = await person.press(old.message_id, "d:l:0")  # its other buttons point there too
    assert "这张测评卡已停用" in ((await tap.answer()).text or "")


async def test_a_card_whose_message_was_never_recorded_is_adopted(harness: Harness) -> None:
    """A crash between sending a card and recording its message: the evaluator presses the
    card they have, the press counts, and that message becomes the card in use."""
    [person] = await evaluators(harness, 1)
    card = card_of(person)
    async with harness.services.db.transaction() as tx:
        await tx.execute("UPDATE ballot_cards SET message_id = NULL")
    assert "已记录：满意" in await press(person, "service", 0, harness)
    await harness.settle()
    assert await stored(harness, person) == {("dongjie", "service"): "satisfied"}
    assert "服务质量：满意" in card_of(person).text
    assert card_of(person).message_id == card.message_id  # edited, not sent again
    [row] = await harness.rows("SELECT message_id FROM ballot_cards")
    assert row == (card.message_id,)


@pytest.mark.on_postgresql
async def test_a_crash_between_a_press_and_its_edit_is_mended_at_restart(
    harness: Harness,
) -> None:
    [person] = await evaluators(harness, 1)
    # the answer is recorded, and the process dies before the card is edited
    await ballots.cast(harness.services, person.id, "dongjie", "integrity", 3, 10_000_001)
    assert "廉洁自律：—" in card_of(person).text
    await restart(harness)
    await harness.settle()
    assert "廉洁自律：不了解" in card_of(person).text


@pytest.mark.on_postgresql
async def test_a_copy_of_the_database_does_not_tell_who_answered_what(
    harness: Harness, tmp_path: Path
) -> None:
    file = harness.db_path  # a copy of the SQLite file (PostgreSQL's copies are pg_dump's)
    people = await evaluators(harness, 3, "")
    for n, person in enumerate(people):
        for item in ITEMS:
            await press(person, item, n % 4, harness, "xijie")
        await press(person, "service", (n + 1) % 4, harness, "dongjie")
    await people[0].send("/ballot")
    await harness.settle()
    copy = tmp_path / "copy.sqlite3"
    await harness.services.db.backup(copy)
    key_file = harness.services.ballot_key.path
    assert key_file.exists() and key_file.parent == file.parent
    assert not str(copy).startswith(str(key_file))
    accounts = {p.id for p in people}
    values = _everything(copy)
    # no row holds an account beside an answer
    answers = {"satisfied", "basic", "unsatisfied", "unknown"}
    for table, row in values:
        if answers & {str(v) for v in row}:
            assert not accounts & {v for v in row if isinstance(v, int)}, (table, row)
            for v in row:  # nor inside a text (a JSON body, a payload)
                if isinstance(v, str) and any(a in v for a in answers):
                    assert not any(str(a) in v for a in accounts), (table, row)
    # and nothing stored turns an account into the pseudonym its ballots are kept under
    pseudonyms = {str(r[0]) for r in sqlite3.connect(copy).execute("SELECT voter FROM ballots")}
    assert len(pseudonyms) == 3
    secrets_found = {str(v) for _, row in values for v in row if isinstance(v, str) and v}
    for secret in secrets_found:
        for account in accounts:
            mac = hmac.new(secret.encode(), str(account).encode(), hashlib.sha256).hexdigest()
            assert mac[:20] not in pseudonyms
    # with the key, the link is there (so the checks above could have found it)
    key = key_file.read_text().strip()
    linked = {
        hmac.new(key.encode(), str(a).encode(), hashlib.sha256).hexdigest()[:20] for a in accounts
    }
    assert linked == pseudonyms
    shutil.copy(copy, tmp_path / "verify.sqlite3")
    assert (await ballots.verify(tmp_path / "verify.sqlite3")).ok  # recounts without the key


def _everything(path: Path) -> list[tuple[str, tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (t, tuple(row))
            for t in tables
            for row in conn.execute(f"SELECT * FROM {t}")  # the database's own names
        ]
    finally:
        conn.close()
