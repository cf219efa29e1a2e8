"""What several flow tests share: people in their roles, invitations, ballots, restarts.

Plain functions with defaults (no fixtures), each doing what a person would in chat.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from telegram.ext import CallbackQueryHandler, CommandHandler

import handlers
from bot.app import build_application
from bot.chat.callbacks import Kind
from bot.standin import BotMessage, NoReply, SimUser
from bot.standin.process import wait_for
from bot.vocabulary import Role
from handlers.access import audience
from tests.support.harness import Harness, file_one


async def invite(harness: Harness, organiser: SimUser, command: str) -> str:
    await organiser.send(command)
    answer = await organiser.reply()
    found = re.search(r"start=(inv-[A-Za-z0-9_-]+)", answer.text)
    assert found, answer.text
    return found.group(1)


async def register(harness: Harness, user: SimUser, code: str) -> str:
    await user.send(f"/start {code}")
    return (await user.reply()).text


async def open_card(user: SimUser, case_id: int) -> None:
    await user.send(f"/status {case_id}")


async def staffed(harness: Harness, unit: str = "dongjie", user_id: int = 3201) -> SimUser:
    """A registered staff member of ``unit`` (their registration message read)."""
    organiser = harness.organiser()
    staff = harness.standin.user(user_id, f"{unit}工作人员")
    await register(harness, staff, await invite(harness, organiser, f"/invite staff {unit}"))
    return staff


async def substantiate(harness: Harness, case_id: int, move: str = "属实：一般问题") -> None:
    organiser = harness.organiser()
    await harness.settle()
    organiser.skip_unread()
    await open_card(organiser, case_id)
    await organiser.reply()
    await organiser.tap(move)
    await organiser.reply()
    await organiser.send("经核实属实。")
    await organiser.reply()
    await harness.settle()
    organiser.skip_unread()


async def invite_links(organiser: SimUser, command: str) -> list[str]:
    organiser.skip_unread()
    await organiser.send(command)
    # the listing, then the sheet of QR codes; a notice queued earlier (a burst of
    # registrations) may come between them
    seen = await organiser.replies(2)
    while not any(m.kind == "photo" for m in seen) and len(seen) < 4:
        seen += await organiser.replies(1)
    assert seen[-1].kind == "photo", [(m.kind, m.text[:60]) for m in seen]
    listing = next(m for m in seen if "start=inv-" in m.text)
    return re.findall(r"start=(inv-[A-Za-z0-9_-]+)", listing.text)


def card_of(user: SimUser) -> BotMessage:
    """The evaluator's ballot card as it stands now (the newest message with answers)."""
    for message in sorted(user.standin.world.messages.get(user.chat_id, {}).values(),
                          key=lambda m: -m.message_id):  # fmt: skip
        view = user.current(message.message_id)
        if message.from_bot and any(d.startswith(("b:", "d:")) for row in view.data for d in row):
            return view
    raise AssertionError(f"{user.first_name} has no ballot card")


async def press(
    user: SimUser, item: str, index: int, harness: Harness, unit: str = "dongjie"
) -> str:
    """Answer ``item`` of ``unit`` on the evaluator's card; the pop-up's text."""
    tap = await user.press(card_of(user).message_id, f"b:{unit}:{item}:{index}")
    return (await tap.answer()).text or ""


async def restart(harness: Harness) -> None:
    """Stop the bot and start a new one on the same database (as after a deploy)."""
    await harness.bot.stop()
    harness.bot = harness.new_bot()
    await harness.bot.start()


async def people(harness: Harness) -> dict[str, SimUser]:
    organiser = harness.organiser()
    own = await staffed(harness, "dongjie", 3801)
    other = await staffed(harness, "xijie", 3802)
    supervisor = harness.standin.user(3803, "监督员")
    await register(
        harness, supervisor, await invite(harness, organiser, "/invite supervisor dongjie")
    )
    evaluator = harness.standin.user(3804, "测评代表")
    [code] = await invite_links(organiser, "/invite evaluator public_rep 1 dongjie")
    await register(harness, evaluator, code)
    resident = harness.resident(3805, "路人")
    await resident.send("/start")
    await resident.reply()
    author = harness.resident(3806, "王阿姨")
    await file_one(author)  # case 1, of dongjie
    await open_window(organiser)
    await harness.settle()
    organiser.skip_unread()  # (what the settle delivered: the next reply is a command's)
    return {
        "resident": resident,
        "author": author,
        "evaluator": evaluator,
        "supervisor": supervisor,
        "own": own,
        "other": other,
        "organiser": organiser,
    }


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def errors_logged() -> Iterator[Errors]:
    handler = Errors()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


async def done(harness: Harness, update_id: int) -> None:
    """Wait until the bot has processed ``update_id`` (and marked it so)."""
    db = harness.services.db
    for _ in range(2000):
        row = await db.fetchone("SELECT done_at FROM inbox WHERE update_id = ?", (update_id,))
        if row is not None and row[0] is not None:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"update {update_id} was not processed")


def registered() -> tuple[set[str], set[Kind]]:
    """Every command and every button kind the bot answers, read from its registration."""
    app = build_application("1:not-a-token", None, 1)
    commands: set[str] = set()
    kinds: set[Kind] = set()
    for group in app.handlers.values():
        for handler in group:
            if isinstance(handler, CommandHandler):
                commands |= set(handler.commands)
            elif isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, handlers.pattern
            ):
                kinds |= set(handler.pattern.kinds)
    return commands, kinds


def declared() -> dict[str, frozenset[Role]]:
    """The handlers declared for some roles where they are registered (handlers/access.py):
    each command ("/turnout") and button kind ("w") with the roles it serves."""
    app = build_application("1:not-a-token", None, 1)
    found: dict[str, frozenset[Role]] = {}
    for group in app.handlers.values():
        for handler in group:
            roles = audience(handler.callback)
            if roles is None:
                continue
            if isinstance(handler, CommandHandler):
                found |= {f"/{c}": roles for c in handler.commands}
            elif isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, handlers.pattern
            ):
                found |= {str(k): roles for k in handler.pattern.kinds}
    return found


def sheet_rows(upload: bytes, title: str) -> list[dict[str, Any]]:
    """The rows of a sheet of an exported workbook, each by its column's header."""
    book = load_workbook(BytesIO(upload), read_only=True)
    header, *rows = book[title].iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]  # type: ignore[arg-type]


async def evaluators(harness: Harness, count: int, scope: str = "dongjie") -> list[SimUser]:
    """``count`` evaluators of ``scope`` registered, the window opened, their cards out."""
    organiser = harness.organiser()
    codes = await invite_links(organiser, f"/invite evaluator public_rep {count} {scope}".strip())
    people: list[SimUser] = []
    for n, code in enumerate(codes):
        person = harness.standin.user(7700 + len(people) + 10 * n, f"代表{n}")
        await register(harness, person, code)
        people.append(person)
    await open_window(organiser)
    await harness.settle()
    organiser.skip_unread()  # (what the settle delivered: the next reply is a command's)
    return people


EARLY = "现在开放"  # the button under "/ballots open" before the plan's evaluation phase


async def open_window(organiser: SimUser) -> BotMessage:
    """/ballots open, confirmed when the bot asks first (before the plan's evaluation
    phase): the bot's last answer about the window. What was unread is read."""
    before = newest_id(organiser)
    await organiser.send("/ballots open")
    said = await wait_for(organiser, lambda m: m.message_id > before, 30)
    if said.has_button(EARLY):
        await organiser.tap(EARLY, said)
        asked = said.message_id
        said = await wait_for(organiser, lambda m: m.message_id > asked, 30)
    organiser.skip_unread()
    return said


def newest_id(user: SimUser) -> int:
    try:
        return user.latest().message_id
    except NoReply:
        return 0
