"""kill -9 at random moments during a mixed storm of residents, staff and evaluators.

The bot runs as its own process (`evalbot run`) against the stand-in and is killed with
SIGKILL twice, at moments drawn at random, and started again each time on the same
database. Afterwards the database is compared with what people sent and what Telegram
received: no case, move or ballot lost, none applied twice, no notification sent twice,
and SQLite's integrity check passes.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import cast

import pytest

from bot import ballot_key
from bot.ballots.evaluation import verify
from bot.standin import SimUser, StandIn
from bot.standin.process import BotProcess, opinion_text, resident_files, wait_for
from bot.standin.users import NoReply
from scoring import ANSWERS
from tests.support.helpers import invite_links, open_window
from tests.support.storm import (
    EVALUATORS,
    ITEMS,
    RESIDENTS,
    cards_show,
    command,
    evaluator_votes,
    pseudonymous,
    settled,
    staff_verifies,
)


@pytest.mark.timeout(600)
async def test_kill_9_at_random_moments_during_a_mixed_storm(tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    async with StandIn() as standin:
        bot = BotProcess(standin, ["-m", "bot.cli", "run"], tmp_path / "crash.sqlite3")
        await bot.start()
        try:
            organiser = standin.user(100000001, "纠风办李主任")
            link = await command(organiser, "/invite staff dongjie", "start=")
            staff = standin.user(7001, "东街社保所小张")
            await command(staff, "/start " + link.split("start=")[1].split()[0], "工作人员")
            listing = await command(
                organiser, f"/invite evaluator public_rep {EVALUATORS} dongjie", "每个链接"
            )
            codes = [w.split("start=")[1] for w in listing.split() if "start=" in w]
            evaluators = [standin.user(7100 + n, f"代表{n}") for n in range(EVALUATORS)]
            for person, code in zip(evaluators, codes, strict=True):
                await command(person, f"/start {code}", "测评代表")
            assert "测评已开放" in (await open_window(organiser)).text
            for person in evaluators:  # five ballots each, one a second per chat
                await wait_for(person, lambda m: "制度建设" in m.text, 60)
            residents = [standin.user(7200 + n, f"居民{n}") for n in range(RESIDENTS)]

            # the storm, and two kills at moments drawn at random
            start = time.monotonic()
            work = asyncio.gather(
                *(resident_files(u, n, timeout=180) for n, u in enumerate(residents)),
                *(evaluator_votes(u, n) for n, u in enumerate(evaluators)),
                staff_verifies(staff, RESIDENTS, start + 240),
            )
            moments = sorted(rng.uniform(0.5, 8.0) for _ in range(2))
            for moment in moments:
                await asyncio.sleep(max(0.0, start + moment - time.monotonic()))
                await bot.kill()
                await bot.start()
            results = await asyncio.wait_for(work, 300)
            for _ in range(600):
                if not standin.pending_updates() and settled(bot.db_path):
                    break
                await asyncio.sleep(0.1)
            why = f"(seed {seed}, kills at {[round(m, 2) for m in moments]} s)"
            chosen = cast(list[dict[str, str]], results[RESIDENTS : RESIDENTS + EVALUATORS])
            # every card shows its evaluator's answers (an edit a kill cut short is made
            # after the restart)
            assert await cards_show(evaluators, chosen) == [], why
        finally:
            await bot.stop()

        verified = cast(set[int], results[-1])
        conn = sqlite3.connect(bot.db_path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",), why
            # cases: one per resident, its text exactly as sent
            texts = Counter(r[0] for r in conn.execute("SELECT text FROM cases"))
            assert texts == Counter(opinion_text(n) for n in range(RESIDENTS)), why
            # moves: each case verified once, none lost
            assert verified == set(range(1, RESIDENTS + 1)), why
            moves = Counter(
                r[0]
                for r in conn.execute(
                    "SELECT case_id FROM case_events WHERE to_state = 'verifying'"
                )
            )
            assert moves == Counter(range(1, RESIDENTS + 1)), why
            # ballots: each answer once in the log, the last one standing
            log = conn.execute("SELECT COUNT(*) FROM ballot_log").fetchone()[0]
            assert log == EVALUATORS * len(ITEMS), why
            stored = {
                (r[0], r[1]): r[2]
                for r in conn.execute("SELECT voter, item_id, answer FROM ballots")
            }
            assert stored == pseudonymous(ballot_key.default_path(bot.db_path), 7100, chosen), why
            # notifications: none reached a chat twice
            rows = conn.execute(
                "SELECT chat_id, payload, sent_at, error FROM outbox WHERE method = 'sendMessage' "
                "AND (sent_at IS NOT NULL OR error LIKE 'interrupted%')"
            ).fetchall()
        finally:
            conn.close()
        assert (await verify(bot.db_path)).ok, why
        assert len(rows) >= 2 * RESIDENTS  # staff and organisers are told of every case
        received = Counter(
            (chat_id, e.snapshot.text)
            for chat_id, events in standin.world.events.items()
            for e in events
            if e.kind == "message"
        )
        for chat_id, payload, sent_at, _ in rows:
            times = received[(chat_id, json.loads(payload)["text"])]
            assert times <= 1, f"a notification reached chat {chat_id} {times} times {why}"
            if sent_at is not None:
                assert times == 1, f"a notification marked sent never arrived {why}"


CARD_EVALUATORS = 26


def first_card(user: SimUser) -> int | None:
    """The first ballot card the evaluator received (the one a person goes on using)."""
    for message in sorted(user.standin.world.messages.get(user.chat_id, {}).values(),
                          key=lambda m: m.message_id):  # fmt: skip
        view = user.current(message.message_id)
        if message.from_bot and any(d.startswith("b:") for row in view.data for d in row):
            return message.message_id
    return None


async def first_card_out(evaluators: list[SimUser]) -> None:
    """Wait until the first card reaches its chat."""

    async def card_in(user: SimUser) -> None:
        await user.standin.world.wait(user.chat_id, lambda: first_card(user) is not None, 30)

    waits = [asyncio.create_task(card_in(u)) for u in evaluators]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for wait in waits:
        wait.cancel()
    assert any(first_card(u) for u in evaluators), "no card was sent"


async def votes_on_first_card(user: SimUser, n: int) -> tuple[dict[str, str], list[str]]:
    """Answer the five items on the first card received, whatever came after it; a press
    whose pop-up does not come (the bot was killed) is pressed again, as a person would.
    Returns the answers and every pop-up read."""
    await user.standin.world.wait(user.chat_id, lambda: first_card(user) is not None, 120)
    card = first_card(user)
    assert card is not None, f"{user.first_name} received no ballot card"
    chosen: dict[str, str] = {}
    said: list[str] = []
    for m, item in enumerate(ITEMS):
        index = (n + m) % 4
        for _ in range(6):
            tap = await user.press(card, f"b:dongjie:{item}:{index}")
            try:
                said.append((await tap.answer(timeout=20)).text or "")
                break
            except NoReply:
                continue
        chosen[item] = ANSWERS[index].value
        await asyncio.sleep(0.3)
    return chosen, said


@pytest.mark.timeout(300)
async def test_kill_9_while_cards_are_delivered_and_pressed(tmp_path: Path) -> None:
    """Killed while the cards go out and are pressed: some evaluators get a second card and
    go on pressing the first; every press counts (issue 24)."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    async with StandIn() as standin:
        bot = BotProcess(standin, ["-m", "bot.cli", "run"], tmp_path / "cards.sqlite3")
        await bot.start()
        try:
            organiser = standin.user(100000001, "纠风办李主任")
            codes = []
            for _ in range(2):  # (at most 20 links come in one message)
                half = CARD_EVALUATORS // 2
                codes += await invite_links(
                    organiser, f"/invite evaluator public_rep {half} dongjie"
                )
            assert len(codes) == CARD_EVALUATORS
            evaluators = [standin.user(7300 + n, f"代表{n}") for n in range(CARD_EVALUATORS)]
            await asyncio.gather(
                *(
                    command(p, f"/start {c}", "测评代表")
                    for p, c in zip(evaluators, codes, strict=True)
                )
            )
            organiser.skip_unread()
            standin.latency = 0.1  # a card reaches its chat 50 ms before the bot learns of it
            await open_window(organiser)
            work = asyncio.gather(*(votes_on_first_card(u, n) for n, u in enumerate(evaluators)))
            # the first kill while the cards go out, the second while they are pressed
            await first_card_out(evaluators)
            start = time.monotonic()
            moments = [rng.uniform(0.0, 0.5), rng.uniform(2.0, 6.0)]
            for moment in moments:
                await asyncio.sleep(max(0.0, start + moment - time.monotonic()))
                await bot.kill()
                await bot.start()
            try:
                results = await asyncio.wait_for(work, 200)
            except TimeoutError:
                cards = {u.first_name: first_card(u) for u in evaluators}
                raise AssertionError(f"presses unanswered: {cards} (seed {seed})") from None
            for _ in range(600):
                if not standin.pending_updates() and settled(bot.db_path):
                    break
                await asyncio.sleep(0.1)
            why = f"(seed {seed}, kills at {[round(m, 2) for m in moments]} s)"
            chosen = [answers for answers, _ in results]
            for person, (_, said) in zip(evaluators, results, strict=True):
                # every press was answered as recorded, none refused for its card
                assert len(said) == len(ITEMS), (person.first_name, said, why)
                assert all("已记录" in s or "没有改变" in s for s in said), (said, why)
            assert await cards_show(evaluators, chosen) == [], why
        finally:
            await bot.stop()

        conn = sqlite3.connect(bot.db_path)
        try:
            log = conn.execute("SELECT COUNT(*) FROM ballot_log").fetchone()[0]
            assert log == CARD_EVALUATORS * len(ITEMS), why
            stored = {
                (r[0], r[1]): r[2]
                for r in conn.execute("SELECT voter, item_id, answer FROM ballots")
            }
        finally:
            conn.close()
        assert stored == pseudonymous(ballot_key.default_path(bot.db_path), 7300, chosen), why
        assert (await verify(bot.db_path)).ok, why
