"""The processor: users at once, one user's updates strictly in order, done marks kept."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator

import pytest
from telegram import Chat, Message, Update, User

from bot.clock import FakeClock
from bot.db import Database, inbox, open_database
from bot.db.database import Script, Turns, Writes
from bot.errors import DatabaseError, UserError
from bot.runtime.processor import CURRENT_OUTCOME, Processor, Work, beside_the_lane, lane_of

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def update(update_id: int, user_id: int, chat_id: int | None = None) -> Update:
    user = User(user_id, "u", is_bot=False)
    chat = Chat(chat_id or user_id, "private" if chat_id is None else "supergroup")
    return Update(update_id, message=Message(update_id, NOW, chat, from_user=user, text="x"))


@pytest.fixture
async def db(db_target: str) -> AsyncIterator[Database]:
    """A new database on each backend (tests/conftest.py)."""
    database = await open_database(db_target)
    yield database
    await database.close()


async def store(db: Database, updates: list[Update]) -> None:
    await inbox.store(db, [inbox.Incoming(u.update_id, lane_of(u), "{}") for u in updates], NOW)


async def test_one_users_updates_run_in_order_while_users_run_at_once(db: Database) -> None:
    rng = random.Random(3)
    running: set[int] = set()
    most_at_once = 0
    seen: dict[int, list[int]] = {}

    async def handle(u: Update) -> None:
        nonlocal most_at_once
        user = u.effective_user
        assert user is not None
        assert user.id not in running, "two updates of one user at once"
        running.add(user.id)
        most_at_once = max(most_at_once, len(running))
        await asyncio.sleep(rng.random() / 200)
        seen.setdefault(user.id, []).append(u.update_id)
        running.discard(user.id)

    updates = [update(i, 100 + i % 7) for i in range(1, 211)]
    await store(db, updates)
    processor = Processor(handle, db, FakeClock(NOW), max_lanes=4)
    for u in updates:
        processor.submit(Work(u.update_id, lane_of(u), u))
    await processor.idle()
    for user_id, ids in seen.items():
        assert ids == sorted(ids), user_id
    assert sum(len(v) for v in seen.values()) == 210
    assert 1 < most_at_once <= 4
    assert await inbox.pending(db) == []


async def test_group_messages_share_the_chats_lane() -> None:
    assert lane_of(update(1, 5, chat_id=-100)) == -100
    assert lane_of(update(2, 5)) == 5


async def test_a_passing_failure_is_tried_again(db: Database) -> None:
    attempts = 0

    async def handle(u: Update) -> None:
        nonlocal attempts
        attempts += 1
        outcome = CURRENT_OUTCOME.get()
        if attempts < 3 and outcome is not None:
            outcome.retry_after = 0.01

    u = update(1, 5)
    await store(db, [u])
    processor = Processor(handle, db, FakeClock(NOW))
    processor.submit(Work(1, 5, u))
    await processor.idle()
    assert attempts == 3
    assert await inbox.pending(db) == []


async def test_stopping_leaves_unprocessed_updates_for_the_restart(db: Database) -> None:
    gate = asyncio.Event()

    async def handle(u: Update) -> None:
        await gate.wait()

    updates = [update(i, 5) for i in (1, 2, 3)]
    await store(db, updates)
    processor = Processor(handle, db, FakeClock(NOW))
    for u in updates:
        processor.submit(Work(u.update_id, 5, u))
    await asyncio.sleep(0.01)
    stopping = asyncio.create_task(processor.stop())
    await asyncio.sleep(0.01)
    gate.set()
    await stopping
    assert [p.update_id for p in await inbox.pending(db)] == [2, 3]


async def test_a_pop_up_beside_the_lane_lets_the_next_update_run_and_is_marked_after(
    db: Database,
) -> None:
    popped = asyncio.Event()
    order: list[str] = []

    async def pop_up(update_id: int) -> None:
        await popped.wait()  # (a slow Bot API)
        order.append(f"pop-up {update_id}")

    async def handle(u: Update) -> None:
        order.append(f"handled {u.update_id}")
        await beside_the_lane(pop_up(u.update_id))

    updates = [update(1, 7), update(2, 7)]  # one user's lane
    await store(db, updates)
    processor = Processor(handle, db, FakeClock(NOW), max_lanes=4)
    for u in updates:
        processor.submit(Work(u.update_id, lane_of(u), u))
    for _ in range(100):
        if order == ["handled 1", "handled 2"]:
            break
        await asyncio.sleep(0.01)
    assert order == ["handled 1", "handled 2"]  # the second ran before the first's pop-up
    with pytest.raises(TimeoutError):
        await processor.idle(timeout=0.2)  # not idle while pop-ups are in flight
    assert [p.update_id for p in await inbox.pending(db)] == [1, 2]  # nor marked done
    popped.set()
    await processor.idle()
    assert sorted(order[2:]) == ["pop-up 1", "pop-up 2"]
    assert await inbox.pending(db) == []


async def test_the_writer_takes_the_intake_before_waiting_writes() -> None:
    turns = Turns()
    order: list[str] = []

    async def write(name: str, first: bool = False) -> None:
        await turns.acquire(first)
        order.append(name)
        await asyncio.sleep(0)
        turns.release()

    await turns.acquire()  # held: everyone below waits
    waiting = [asyncio.create_task(write(f"press {n}")) for n in range(3)]
    waiting.append(asyncio.create_task(write("intake", first=True)))
    cancelled = asyncio.create_task(write("gone"))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    turns.release()
    await asyncio.gather(*waiting)
    assert order == ["intake", "press 0", "press 1", "press 2"]
    assert not turns.locked()


async def test_scripts_waiting_together_commit_together_and_fail_alone(db: Database) -> None:
    """Group commit: scripts that wait for the writer at the same time go in one
    transaction, each in its own savepoint. Each caller gets its own result; one that
    raises (its own error, or the database's) is rolled back alone; the rest are stored."""

    def note(n: int) -> Script[int]:
        yield ("INSERT INTO meta (key, value) VALUES (?, ?)", (f"group:{n}", str(n)))
        rows = yield ("SELECT COUNT(*) FROM meta WHERE key LIKE 'group:%'", ())
        if n == 3:
            raise UserError("common/invalid_button")  # after its write: undone
        if n == 4:  # the database refuses (the key is taken): undone, the rest go on
            yield ("INSERT INTO meta (key, value) VALUES ('group:0', 'again')", ())
        return int(rows[0][0])

    results = await asyncio.gather(*(db.run(note(n)) for n in range(7)), return_exceptions=True)
    assert isinstance(results[3], UserError)
    assert isinstance(results[4], Exception) and not isinstance(results[4], UserError)
    assert [r for n, r in enumerate(results) if n not in (3, 4)] == [1, 2, 3, 4, 5]  # in order
    rows = await db.fetchall("SELECT key, value FROM meta WHERE key LIKE 'group:%'")
    assert {r[0]: r[1] for r in rows} == {f"group:{n}": str(n) for n in (0, 1, 2, 5, 6)}


async def test_scripts_asked_first_commit_together_ahead_of_the_plain_ones(db: Database) -> None:
    """The intake's stores (``first``: webhook requests arrive many at once) form groups of
    their own, which go ahead of the plain scripts (presses) that waited longer."""

    def arrive(name: str) -> Script[int]:
        rows = yield ("SELECT COUNT(*) FROM meta WHERE key LIKE 'turn:%'", ())
        yield ("INSERT INTO meta (key, value) VALUES (?, ?)", (f"turn:{name}", name))
        return int(rows[0][0])

    async with db.transaction():  # the writer is busy: everyone below waits
        plain = [asyncio.create_task(db.run(arrive(f"press {n}"))) for n in range(3)]
        await asyncio.sleep(0.01)
        first = [asyncio.create_task(db.run(arrive(f"store {n}"), first=True)) for n in range(3)]
        await asyncio.sleep(0.01)
    assert await asyncio.gather(*first) == [0, 1, 2]
    assert await asyncio.gather(*plain) == [3, 4, 5]


async def test_independent_writes_are_made_in_one_step(db: Database) -> None:
    """A script's :class:`Writes` step (PostgreSQL: one statement of ``WITH`` parts) makes
    every write, with each one's parameters, and the script goes on."""

    def three(n: int) -> Script[int]:
        yield Writes((
            ("INSERT INTO meta (key, value) VALUES (?, ?)", (f"w{n}:a", "1")),
            ("UPDATE meta SET value = ? WHERE key = 'intake_offset' AND ? > 0", ("7", n)),
            ("INSERT INTO meta (key, value) VALUES (?, ?)", (f"w{n}:b", f"{n}")),
        ))  # fmt: skip
        rows = yield ("SELECT COUNT(*) FROM meta WHERE key LIKE 'w%:%'", ())
        return int(rows[0][0])

    assert await asyncio.gather(db.run(three(1)), db.run(three(2))) == [2, 4]
    rows = await db.fetchall("SELECT key, value FROM meta WHERE key LIKE 'w%:%' ORDER BY key")
    assert [tuple(r) for r in rows] == [("w1:a", "1"), ("w1:b", "1"), ("w2:a", "1"), ("w2:b", "2")]
    assert await db.fetchval("SELECT value FROM meta WHERE key = 'intake_offset'") == "7"
    with pytest.raises(DatabaseError, match="parameters"):
        Writes((("UPDATE meta SET value = :v WHERE key = 'x'", {"v": "1"}),))


async def test_a_read_script_sees_what_was_committed_and_writes_nothing(db: Database) -> None:
    """A read script (on SQLite made at once on the loop's thread, on a connection of its
    own) sees what the writer committed before it, and cannot write."""
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('seen:a', '1')")

    def look() -> Script[list[str]]:
        rows = yield ("SELECT key FROM meta WHERE key LIKE 'seen:%' ORDER BY key", ())
        return [str(r[0]) for r in rows]

    assert await db.read(look()) == ["seen:a"]

    def scribble() -> Script[None]:
        yield ("INSERT INTO meta (key, value) VALUES ('seen:b', '2')", ())

    if db.dialect == "sqlite":
        with pytest.raises(Exception, match="readonly"):
            await db.read(scribble())
        assert await db.read(look()) == ["seen:a"]
