"""Several instances on one PostgreSQL database (design §13), as separate `evalbot run`
processes against the stand-in, one of them killed with SIGKILL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest

from bot.ballots.evaluation import verify
from bot.cases.moves import check_deadlines
from bot.db import inbox, open_database
from bot.db import leases as lease_store
from bot.db import outbox as outbox_store
from bot.runtime import jobs
from bot.runtime.leases import JOBS, Lease
from bot.standin import StandIn
from bot.standin.process import (
    BotProcess,
    RoundRobin,
    free_port,
    opinion_text,
    resident_files,
    wait_for,
)
from tests.support.backends import cluster, drop_every_connection, new_database
from tests.support.harness import Harness, file_one
from tests.support.helpers import open_window, staffed
from tests.support.storm import (
    EVALUATORS,
    ITEMS,
    RESIDENTS,
    cards_show,
    command,
    evaluator_votes,
    pseudonymous,
    staff_verifies,
)

RUN = ["-m", "bot.cli", "run"]


async def test_the_standby_takes_over_polling_within_15_seconds(tmp_path: Path) -> None:
    url = await new_database()
    env = {"EVALBOT_BALLOT_KEY": str(tmp_path / "ballot-key")}
    async with StandIn() as standin:
        first = BotProcess(standin, RUN, db=url, env=env, log=tmp_path / "first.log")
        second = BotProcess(standin, RUN, db=url, env=env, log=tmp_path / "second.log")
        await first.start()
        try:
            await second.start(standby=True)  # the lease is taken: it waits
            before = standin.user(5101, "王阿姨")
            await resident_files(before, 1, timeout=60)
            polls = standin.world.calls.get("getUpdates", 0)

            await first.kill()
            killed = time.monotonic()
            during = standin.user(5102, "李大爷")  # writes while nobody polls
            await during.send("/start")
            await wait_for(during, lambda m: "政风行风评议" in m.text, timeout=30)
            took = time.monotonic() - killed
            assert took < 15.0, f"the standby answered {took:.1f}s after the poller died"
            assert standin.world.calls.get("getUpdates", 0) > polls
            assert b"polling (instance" in second.log.read_bytes()

            await resident_files(during, 2, timeout=60)  # the new poller serves on
            before.skip_unread()
            await before.send("/status 1")
            status = await wait_for(before, lambda m: "第 1 号" in m.text, timeout=30)
            assert "东街街道社保所" in status.text  # filed through the first, kept
            assert not standin.pending_updates()  # nothing left unread at Telegram
        finally:
            await first.stop()
            await second.stop()
    conn = await asyncpg.connect(url)
    try:  # one case each, every update processed, none twice
        assert await conn.fetchval("SELECT COUNT(*) FROM cases") == 2
        assert await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    finally:
        await conn.close()


SECRET = "two-instances_secret"


@pytest.mark.timeout(600)
async def test_two_webhook_instances_one_killed_during_a_mixed_storm(tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    url = await new_database()
    env = {"EVALBOT_BALLOT_KEY": str(tmp_path / "ballot-key")}
    ports = [free_port(), free_port()]
    async with StandIn() as standin, RoundRobin(ports) as proxy:
        hook = f"http://127.0.0.1:{proxy.port}/hook"
        instances = [
            BotProcess(
                standin,
                [*RUN, "--webhook", hook, "--port", str(port), "--secret-token", SECRET],
                db=url,
                env=env,
                log=tmp_path / f"instance{n}.log",
            )
            for n, port in enumerate(ports)
        ]
        for instance in instances:  # the first makes the ballot key, the second reads it
            await instance.start(said=b"webhook listening on")
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
            for person in evaluators:
                await wait_for(person, lambda m: "制度建设" in m.text, 60)
            residents = [standin.user(7200 + n, f"居民{n}") for n in range(RESIDENTS)]

            start = time.monotonic()
            work = asyncio.gather(
                *(resident_files(u, n, timeout=180) for n, u in enumerate(residents)),
                *(evaluator_votes(u, n) for n, u in enumerate(evaluators)),
                staff_verifies(staff, RESIDENTS, start + 240),
            )
            moment = rng.uniform(0.5, 8.0)
            await asyncio.sleep(max(0.0, start + moment - time.monotonic()))
            await instances[0].kill()
            results = await asyncio.wait_for(work, 300)
            for _ in range(600):
                if not standin.pending_updates() and await settled(url):
                    break
                await asyncio.sleep(0.1)
            why = f"(seed {seed}, kill at {moment:.2f} s, forwarded {dict(proxy.forwarded)})"
            chosen = cast(list[dict[str, str]], results[RESIDENTS : RESIDENTS + EVALUATORS])
            # every card shows its evaluator's answers, those the killed instance had not
            # shown yet included (the survivor edits the cards it may have owed)
            assert await cards_show(evaluators, chosen) == [], why
        finally:
            for instance in instances:
                await instance.stop()
    assert all(proxy.forwarded[p] > 10 for p in ports), why  # both instances took a share
    verified = cast(set[int], results[-1])
    conn = await asyncpg.connect(url)
    try:
        # the server's own checks: every B-tree index agrees with its table
        await conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        await conn.execute(
            "SELECT bt_index_check(c.oid, true) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND s.nspname = 'public'"
        )
        # one person's updates applied in order, across the instances and the kill: in
        # each lane, an update is marked done no earlier than the one before it (a ballot's
        # update keeps no lane: it is forgotten as it is applied)
        lanes: dict[int, list[tuple[int, dt.datetime]]] = {}
        for lane, update_id, done in await conn.fetch(
            "SELECT lane, update_id, done_at FROM inbox WHERE lane != 0 ORDER BY update_id"
        ):
            assert done is not None, why
            lanes.setdefault(int(lane), []).append((update_id, dt.datetime.fromisoformat(done)))
        assert len(lanes) >= RESIDENTS + 1, why  # the residents' and the staff's lanes
        for lane, done in lanes.items():
            moments = [at for _, at in done]
            assert moments == sorted(moments), f"lane {lane} applied out of order {why}"
        texts = Counter(r[0] for r in await conn.fetch("SELECT text FROM cases"))
        assert texts == Counter(opinion_text(n) for n in range(RESIDENTS)), why
        assert verified == set(range(1, RESIDENTS + 1)), why
        moves = Counter(
            r[0] for r in await conn.fetch(
                "SELECT case_id FROM case_events WHERE to_state = 'verifying'"
            )
        )  # fmt: skip
        assert moves == Counter(range(1, RESIDENTS + 1)), why
        log = await conn.fetchval("SELECT COUNT(*) FROM ballot_log")
        assert log == EVALUATORS * len(ITEMS), why
        stored = {
            (r[0], r[1]): r[2]
            for r in await conn.fetch("SELECT voter, item_id, answer FROM ballots")
        }
        rows = await conn.fetch(
            "SELECT chat_id, payload, sent_at, error FROM outbox WHERE method = 'sendMessage' "
            "AND (sent_at IS NOT NULL OR error LIKE 'interrupted%')"
        )
    finally:
        await conn.close()
    assert stored == pseudonymous(tmp_path / "ballot-key", 7100, chosen), why
    assert (await verify(url)).ok, why
    assert standin.limits.refused == 0, why  # the overall rate and each chat's held
    assert len(rows) >= 2 * RESIDENTS
    received = Counter(
        (chat_id, e.snapshot.text)
        for chat_id, events in standin.world.events.items()
        for e in events
        if e.kind == "message"
    )
    for chat_id, payload, sent_at, _ in rows:
        times = received[(int(chat_id), json.loads(payload)["text"])]
        assert times <= 1, f"a notification reached chat {chat_id} {times} times {why}"
        if sent_at is not None:
            assert times == 1, f"a notification marked sent never arrived {why}"


async def settled(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        pending = await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
        unsent = await conn.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        )
        return bool(pending == 0 and unsent == 0)
    finally:
        await conn.close()


@pytest.fixture
def backend() -> str:
    """The in-process instances here share a PostgreSQL database."""
    cluster()
    return "postgresql"


class Context:
    """What a scheduled job reads of PTB's context: the application's bot_data."""

    def __init__(self, bot_data: dict[str, object]) -> None:
        self.bot_data = bot_data


async def test_scheduled_work_runs_on_one_instance_and_a_takeover_sends_nothing_twice(
    harness: Harness,
) -> None:
    staff = await staffed(harness)
    await file_one(harness.resident(5301))
    await harness.settle()
    staff.skip_unread()
    first = harness.bot
    second = harness.new_bot()  # another instance on the same database
    await second.start()
    try:
        leases = [Lease(b.require_services().db, JOBS, b.instance) for b in (first, second)]
        assert await leases[0].try_once() and not await leases[1].try_once()
        job = jobs._shell(check_deadlines)  # the shell the job queue runs every minute

        async def run_on(n: int) -> None:
            bot = (first, second)[n]
            data = {"services": bot.require_services(), jobs.LEASE: leases[n]}
            await job(cast(Any, Context(data)))

        harness.clock.advance(
            dt.timedelta(days=harness.campaign.deadlines.verify_days) - dt.timedelta(hours=23)
        )
        await run_on(1)  # not its turn: nothing
        assert await reminders(harness) == 0
        await run_on(0)
        assert await reminders(harness) == 1  # the unit's staff, a day ahead
        assert not await leases[1].try_once()  # held, and renewed by its holder
        await first.stop()  # the holder stops and gives its lease back (Lease.run does)
        harness.bot = second
        await lease_store.give_back(second.require_services().db, JOBS, first.instance)
        assert await leases[1].try_once()  # the other takes over
        await run_on(1)  # and scans again: the reminder was sent, not again
        assert await reminders(harness) == 1
        await harness.settle()
        said = [m.text for m in staff.unread() if "提醒：案件期限是" in m.text]
        assert len(said) == 1
    finally:
        harness.bot = second


async def reminders(harness: Harness) -> int:
    rows = await harness.rows("SELECT COUNT(*) FROM outbox WHERE dedupe_key IS NOT NULL "
                              "AND payload LIKE '%提醒%'")  # fmt: skip
    return int(rows[0][0])


async def test_a_429_seen_by_one_instance_holds_the_other(harness: Harness) -> None:
    """Two instances drain one outbox. Telegram answers the first sends with 429 (retry
    after 1 s) for a moment only: no instance makes a call inside that second (the stand-in
    counts any that comes after the answer could have been heard), the one that did not get
    the answer included, and every notification goes out once."""
    people = [harness.standin.user(5400 + n, f"居民{n}") for n in range(40)]
    first = harness.bot
    second = harness.new_bot()
    await second.start()
    try:
        services = first.require_services()
        async with services.db.transaction() as tx:
            for n, person in enumerate(people):
                await outbox_store.enqueue(
                    tx,
                    person.chat_id,
                    "sendMessage",
                    {"chat_id": person.chat_id, "text": f"通知 {n}"},
                    services.clock.now(),
                )
        harness.standin.flood(0.3)  # a short flood: over long before its retry_after
        for bot in (first, second):
            bot.require_services().outbox.wake()
        for _ in range(300):
            left = await harness.rows("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            if left[0][0] == 0:
                break
            await asyncio.sleep(0.05)
        limits = harness.standin.limits
        assert limits.refused >= 1  # a 429 was given …
        assert limits.ignored == 0  # … and heard by both instances
        got = [[m.text for m in p.transcript()] for p in people]
        assert got == [[f"通知 {n}"] for n in range(len(people))]
        senders = await harness.rows("SELECT DISTINCT sender FROM outbox")
        assert len(senders) == 2  # both instances sent
    finally:
        await second.stop()


async def test_the_outbox_outlives_the_database_dropping_its_connections(
    harness: Harness,
) -> None:
    """A managed database's failover drops every connection: the outbox's next look for
    work fails, and it looks again (it used to stop for good, so nothing was sent until a
    restart); the writer connects again; updates polled while it could not store them are
    asked for again, and answered."""
    person = harness.standin.user(5501, "居民")
    later = harness.resident(5502, "王阿姨")
    services = harness.services
    await drop_every_connection(services.db.target)
    await later.send("/start")  # polled while the writer's connection is dead
    services.outbox.wake()  # its next round meets a dead connection
    await asyncio.sleep(0.5)
    for _ in range(50):  # the bot's own writes reconnect (the writer is one connection)
        try:
            async with services.db.transaction() as tx:
                await outbox_store.enqueue(
                    tx,
                    person.chat_id,
                    "sendMessage",
                    {"chat_id": person.chat_id, "text": "通知"},
                    services.clock.now(),
                )
            break
        except Exception:  # noqa: BLE001 - the writer's connection was dropped too
            await asyncio.sleep(0.1)
    else:
        pytest.fail("the bot's writer never came back")
    services.outbox.wake()
    # (30 s: what is proven is that they go out at all; the outbox and the poller each look
    # again within seconds, slower only on a machine busy with other tests)
    await wait_for(person, lambda m: m.text == "通知", 30)
    await wait_for(later, lambda m: "政风行风评议" in m.text, 30)


async def test_evalbot_run_stops_within_10_seconds_after_the_database_dropped_it(
    tmp_path: Path,
) -> None:
    """A failover drops every connection; SIGTERM then still stops the bot, and soon (a
    connection the drop left held used to keep the pool's close waiting for a minute)."""
    url = await new_database()
    env = {"EVALBOT_BALLOT_KEY": str(tmp_path / "ballot-key")}
    async with StandIn() as standin:
        bot = BotProcess(standin, RUN, db=url, env=env, log=tmp_path / "bot.log")
        await bot.start()
        try:
            person = standin.user(5601, "王阿姨")
            await resident_files(person, 1, timeout=60)  # the writer and the pool in use
            await drop_every_connection(url)
            person.skip_unread()
            await person.send("/start")  # met by the dropped connections
            await asyncio.sleep(1.0)
            assert bot.process is not None
            bot.process.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            code = await asyncio.wait_for(bot.process.wait(), 60)
            took = time.monotonic() - asked
        finally:
            await bot.stop()
    log = bot.log.read_text(encoding="utf-8")
    assert took < 10.0, f"the bot took {took:.1f}s to stop"
    assert code == 0, log[-2000:]
    assert "evalbot stopped" in log


async def test_a_read_after_the_server_dropped_every_connection_is_answered() -> None:
    """A failover drops every pooled connection: the next reads are answered on fresh ones
    (the poller's first read used to fail on a dead one, and polling stopped for good)."""
    url = await new_database()
    db = await open_database(url, "2026-shebao")
    try:
        for _ in range(20):  # a dropped connection is noticed at a moment of its own
            await asyncio.gather(*(inbox.offset(db) for _ in range(8)))  # the pool fills
            await drop_every_connection(url)
            reads = await asyncio.gather(*(inbox.offset(db) for _ in range(8)))
            assert reads == [0] * 8
            assert await inbox.pending(db) == []
    finally:
        await db.close()
