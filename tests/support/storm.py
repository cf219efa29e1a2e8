"""The mixed storm the crash tests run (residents filing, staff verifying, evaluators
voting) and what is checked after it: ``evalbot run`` against the stand-in, killed at
random (tests/flows/test_crash.py, test_instances.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bot import ballot_key
from bot.standin import BotMessage, SimUser
from bot.standin.process import wait_for
from scoring import ANSWERS
from tests.support.helpers import card_of

RESIDENTS, EVALUATORS = 30, 10
ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")


async def command(user: SimUser, text: str, expect: str) -> str:
    user.skip_unread()
    await user.send(text)
    return (await wait_for(user, lambda m: expect in m.text, 60)).text


async def evaluator_votes(user: SimUser, n: int) -> dict[str, str]:
    """Answer each of the five items on the card once, like a person (a second or so
    apart)."""
    chosen = {}
    for m, item in enumerate(ITEMS):
        index = (n + m) % 4
        await user.press(card_of(user).message_id, f"b:dongjie:{item}:{index}")
        chosen[item] = ANSWERS[index].value
        await asyncio.sleep(0.8)
    return chosen


def verifying(case_id: int) -> Callable[[BotMessage], bool]:
    """The case card of ``case_id`` showing it being verified."""
    return lambda m: f"第 {case_id} 号" in m.text and "核实中" in m.text


def shown_since(
    user: SimUser, before: int, check: Callable[[BotMessage], bool]
) -> Callable[[], bool]:
    """Whether any message or edit after the first ``before`` of the chat passes ``check``."""
    return lambda: any(map(check, user.transcript()[before:]))


async def staff_verifies(staff: SimUser, cases: int, deadline: float) -> set[int]:
    """Start verifying each new case as its notice arrives."""
    done: set[int] = set()
    while len(done) < cases and time.monotonic() < deadline:
        seen = {
            int(m.text.split("第 ")[1].split(" 号")[0])
            for m in staff.transcript()
            if m.text.startswith("📥 新案件第 ")
        }
        for case_id in sorted(seen - done):
            staff.skip_unread()
            before = len(staff.transcript())
            await staff.press(staff.latest().message_id, f"v:{case_id}:verify")
            # the answer among what came since, not only the newest: the next case's notice
            # can land right after it, before this waiter looks (seen once in 40 runs)
            answered = await staff.standin.world.wait(
                staff.chat_id, shown_since(staff, before, verifying(case_id)), 60
            )
            if not answered:
                raise TimeoutError(f"the move of case {case_id} was never answered")
            done.add(case_id)
        await asyncio.sleep(0.2)
    return done


NAMES = {
    "disclosure": "信息公开",
    "lawful": "依法办事",
    "service": "服务质量",
    "integrity": "廉洁自律",
    "institutions": "制度建设",
}
SHOWN = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意", "unknown": "不了解"}


async def cards_show(evaluators: list[SimUser], chosen: list[dict[str, str]]) -> list[str]:
    """The evaluators whose card does not show every answer they gave (waiting up to 30 s
    for the last edits: one a second a chat, and a dead instance found within 15 s)."""

    def behind() -> list[str]:
        return [
            person.first_name
            for person, answers in zip(evaluators, chosen, strict=True)
            if not all(
                f"{NAMES[item]}：{SHOWN[answer]}" in card_of(person).text
                for item, answer in answers.items()
            )
        ]

    for _ in range(300):
        if not behind():
            break
        await asyncio.sleep(0.1)
    return behind()


def settled(db: Path) -> bool:
    conn = sqlite3.connect(db)
    try:
        pending = conn.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone()[0]
        unsent = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        ).fetchone()[0]
        return pending == 0 and unsent == 0
    finally:
        conn.close()


def pseudonymous(
    key_file: Path, first_id: int, chosen: list[dict[str, str]]
) -> dict[tuple[str, str], str]:
    """What the evaluators (ids from ``first_id`` on) chose, as the database keeps it: each
    answer under its evaluator's pseudonym (design §6)."""
    key = ballot_key.read(key_file)
    assert key is not None, f"no ballot key in {key_file}"
    return {
        (key.pseudonym(first_id + n), item): answer
        for n, answers in enumerate(chosen)
        for item, answer in answers.items()
    }
