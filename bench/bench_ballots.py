"""A meeting of 1,000 evaluators: the ballot card at Telegram's physical limit.

``evalbot run`` in its own process against the stand-in, 50 ms of latency on every Bot
API call, and both of Telegram's sending limits on (30 a second for the bot; one a second
a chat, edits included, with short bursts). A campaign of 10 offices × 5 items.

Set-up, not measured: the evaluators' registrations are stored (as their invitation links
would store them). Reported:

- **delivery**: from ``/ballots open`` until every evaluator has their card, as a ratio to
  the physical limit of 1,000 messages at 30 a second (target ≤ 1.15); messages an
  evaluator receives: 1 (before the card: one a ballot, 50);
- **voting**: every evaluator answers all 50 items at a person's pace (one press every
  2–5 s, moving to the next office after each five; some double taps, some changed
  answers): all final answers recorded once (ballots, tallies, log), p95 from a press to
  its pop-up (target < 1 s), how long after each evaluator's last press their card shows
  exactly what is stored (target ≤ 5 s), and Telegram's 429s ignored (target 0);
- **the close**: from ``/ballots close`` until every card shows its final answers without
  buttons, as a ratio to the same physical limit;
- **the knee**: the pace raised until p95 press-to-pop-up passes 1 s, in presses a second.

Telegram does not say whether edits count against the bot's 30 a second: ``--edits``
``chat`` (only per chat) or ``overall`` (also in the 30 a second, the pessimistic case; the
bot is told the same). Run: ``python -m bench.bench_ballots [--evaluators 1000]
[--edits chat|overall|both] [--knee | --knee-only SECONDS]``.

``--storm [N]`` (default 300 evaluators): the storm of issue 24 instead. Every evaluator
presses an answer under the five items of their card at the same moment; presses a second
until every pop-up, and p95 press → pop-up, for ``evalbot run`` and, in the same run, for
the floor (``bench/floor_bot.py``: aiohttp long polling, one SQLite transaction a batch,
then every pop-up at once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

from bot import ballot_key
from bot.campaign import load_campaign, parse_campaign
from bot.clock import iso
from bot.db import open_database, pgcluster
from bot.settings import REPO_EXAMPLE
from bot.standin import FloodLimits, SimUser, StandIn
from bot.standin.process import BotProcess, RoundRobin, free_port

ORGANISER = 100000001
OFFICES = 10
ANSWERS = ("满意", "基本满意", "不满意", "不了解")
VALUES = ("satisfied", "basic", "unsatisfied", "unknown")


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def campaign_file(folder: Path) -> Path:
    text = REPO_EXAMPLE.read_text(encoding="utf-8")
    start, end = text.index("[[units]]"), text.index("# The evaluation items")
    offices = "".join(
        f'[[units]]\nid = "o{n:02d}"\nname = "第{n + 1}街道社保所"\n\n' for n in range(OFFICES)
    )
    path = folder / "campaign.toml"
    path.write_text(text[:start] + offices + text[end:], encoding="utf-8")
    parse_campaign(path.read_text(encoding="utf-8"), path)  # a valid file
    return path


async def register(target: str, evaluators: int) -> None:
    """Store the evaluators' roles as their invitation links would (set-up, not measured)."""
    db = await open_database(target)
    now = iso(dt.datetime.now(dt.UTC))
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO invites (code, role, units, category, created_by, created_at, "
            "used_by, used_at, round) "
            "VALUES (?, 'evaluator', '[]', 'public_rep', ?, ?, ?, ?, "
            "(SELECT id FROM current_round))",
            [(f"inv-b{n}", ORGANISER, now, 60_000 + n, now) for n in range(evaluators)],
        )
        await conn.executemany(
            "INSERT INTO roles (user_id, role, unit_id, category, invite_code, granted_at, round) "
            "VALUES (?, 'evaluator', '', 'public_rep', ?, ?, (SELECT id FROM current_round))",
            [(60_000 + n, f"inv-b{n}", now) for n in range(evaluators)],
        )
    await db.close()


async def until(person: SimUser, check: Callable[[SimUser], bool]) -> None:
    if not await person.standin.world.wait(person.chat_id, lambda: check(person), 900):
        raise TimeoutError(f"{person.first_name} waited in vain")


def has_card(person: SimUser) -> bool:
    return card_id(person) is not None


def final(person: SimUser) -> bool:
    """The card shows its final answers and has no buttons."""
    sent = person.standin.world.message(person.chat_id, card_id(person) or 0)
    return sent is not None and "已结束" in sent.plain and not sent.reply_markup


def card_id(person: SimUser) -> int | None:
    found = [m.message_id for m in person.transcript() if m.text.startswith("🗳")]
    return max(found) if found else None


@dataclass
class Votes:
    toast: list[float] = field(default_factory=list)  # press → pop-up, seconds
    settled: list[float] = field(default_factory=list)  # last press → card shows it
    presses: int = 0
    slowed: int = 0  # presses the burst throttle asked to wait
    first: float = 0.0
    last: float = 0.0


async def vote(
    person: SimUser,
    rng: random.Random,
    items: list[str],
    pace: tuple[float, float],
    offices: int,
    votes: Votes,
) -> dict[tuple[int, int], int]:
    """A person answers every item of every office on their card, office after office."""
    chosen: dict[tuple[int, int], int] = {}
    world = person.standin.world

    async def press(data: str) -> None:
        while True:
            await asyncio.sleep(rng.uniform(*pace))
            message = card_id(person)
            assert message is not None
            pressed = time.perf_counter()
            votes.first = votes.first or pressed
            tap = await person.press(message, data)
            said = (await tap.answer(timeout=120)).text or ""
            votes.toast.append(time.perf_counter() - pressed)
            votes.presses += 1
            votes.last = max(votes.last, time.perf_counter())
            if "太快" not in said:  # slowed down (the burst throttle): try again, as people do
                return
            votes.slowed += 1

    for office in range(offices):
        for item, _ in enumerate(items):
            answer = rng.randrange(4)
            if rng.random() < 0.1:  # changes their mind
                await press(f"b:o{office:02d}:{items[item]}:{(answer + 1) % 4}")
            await press(f"b:o{office:02d}:{items[item]}:{answer}")
            chosen[(office, item)] = answer
            if rng.random() < 0.05:  # a double tap
                await press(f"b:o{office:02d}:{items[item]}:{answer}")
        if office < offices - 1:
            await press(f"d:u:{office + 1}")
    done = time.perf_counter()
    last_office = offices - 1
    expected = [f"{ANSWERS[chosen[(last_office, i)]]}" for i in range(len(items))]

    def shows_it() -> bool:
        message = card_id(person)
        sent = world.message(person.chat_id, message) if message else None
        if sent is None:
            return False
        lines = [line for line in sent.plain.splitlines() if line[:2] in ("1.", "2.", "3.")]
        return (
            f"第{offices}街道社保所" in sent.plain
            and f"{offices * len(items)} / {offices * len(items)}" in sent.plain
            and all(line.endswith(e) for line, e in zip(lines, expected, strict=False))
        )

    if not await world.wait(person.chat_id, shows_it, timeout=600):
        raise TimeoutError(f"{person.first_name}'s card never showed the stored answers")
    votes.settled.append(time.perf_counter() - done)
    return chosen


async def run(
    evaluators: int,
    latency: float,
    edits: str,
    pace: tuple[float, float],
    seed: int = 5,
    url: str | None = None,
    profile: str | None = None,
    lanes: int | None = None,
) -> dict[str, float]:
    """One meeting, on a new SQLite file or in the empty PostgreSQL database ``url``
    (``profile``: py-spy samples the bot while the evaluators vote, into that file)."""
    rng = random.Random(seed)
    overall = edits == "overall"
    with tempfile.TemporaryDirectory(prefix="evalbot-ballots-") as scratch:
        folder = Path(scratch)
        campaign = campaign_file(folder)
        items = [i.id for i in load_campaign(campaign).items]
        db_path = folder / "ballots.sqlite3"
        target = url or str(db_path)
        key_path = folder / "ballot-key"
        limits = FloodLimits.telegram(edits_overall=overall)
        async with StandIn(latency=latency, limits=limits) as standin:
            health = free_port()
            env = {
                "EVALBOT_EDITS_COUNT_OVERALL": "1" if overall else "0",
                "EVALBOT_BALLOT_KEY": str(key_path),
                "EVALBOT_HEALTH_LISTEN": f"127.0.0.1:{health}",
            }
            argv = ["-m", "bot.cli", "run", *(["--lanes", str(lanes)] if lanes else [])]
            bot = BotProcess(standin, argv, db_path, campaign, env, db=target)
            await bot.start()  # creates and migrates the database
            await register(target, evaluators)
            people = [standin.user(60_000 + n, f"代表{n}") for n in range(evaluators)]
            organiser = standin.user(ORGANISER, "纠风办")
            try:
                await organiser.send("/ballots open")
                asked = await organiser.reply(timeout=60)
                opened = time.perf_counter()
                if asked.has_button("现在开放"):
                    await organiser.tap("现在开放", asked)  # before the plan's phase: asked
                    await organiser.reply(timeout=60)
                await asyncio.gather(*(until(p, has_card) for p in people))
                delivery = time.perf_counter() - opened
                messages = statistics.mean(len(p.transcript()) for p in people)
                votes = Votes()
                spy = await profiler(bot, profile)
                cpu, here = bot.cpu_seconds(), time.process_time()
                answers = await asyncio.gather(
                    *(
                        vote(p, random.Random(rng.random()), items, pace, OFFICES, votes)
                        for p in people
                    )
                )
                span = max(1e-9, votes.last - votes.first)
                busy = (bot.cpu_seconds() - cpu) / span
                harness = (time.process_time() - here) / span
                inside = await within_the_bot(health)
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    await spy.wait()
                await organiser.send("/ballots close")
                closed = time.perf_counter()

                await asyncio.gather(*(until(p, final) for p in people))
                closing = time.perf_counter() - closed
            finally:
                await bot.stop()
            ignored = standin.limits.ignored
            refused = standin.limits.refused
            overall_refused = standin.limits.refused_overall
        key = ballot_key.read(key_path)
        assert key is not None
        db = await open_database(target)
        try:
            stored = {
                (r[0], r[1], r[2]): r[3]
                for r in await db.fetchall("SELECT voter, unit_id, item_id, answer FROM ballots")
            }
            tallied = int(await db.fetchval("SELECT SUM(count) FROM tallies") or 0)
            logged = int(await db.fetchval("SELECT COUNT(*) FROM ballot_log") or 0)
        finally:
            await db.close()
        expected = {
            (key.pseudonym(60_000 + n), f"o{o:02d}", items[i]): VALUES[a]
            for n, chosen in enumerate(answers)
            for (o, i), a in chosen.items()
        }
        from bot.ballots.evaluation import verify

        verified = (await verify(target)).ok
    limit = evaluators / 30
    figures = {
        "delivery_s": delivery,
        "delivery_ratio": delivery / limit,
        "messages_each": messages,
        "answers": len(expected),
        "recorded_exactly": float(stored == expected and tallied == len(expected)),
        "logged": logged,
        "verify_ok": float(verified),
        "presses": votes.presses,
        "slowed": votes.slowed,
        "presses_per_s": votes.presses / max(1e-9, votes.last - votes.first),
        "p95_toast_s": quantile(votes.toast, 0.95),
        "median_toast_s": statistics.median(votes.toast),
        "p95_settled_s": quantile(votes.settled, 0.95),
        "max_settled_s": max(votes.settled),
        "close_s": closing,
        "close_ratio": closing / limit,
        "refused": refused,
        "refused_overall": overall_refused,
        "ignored": ignored,
        "busy": busy,
        "harness_busy": harness,
        **{f"in_bot_within_{k}_s": v for k, v in inside.items()},
    }
    print(
        f"[{'PostgreSQL' if url else 'SQLite'}, edits counted "
        f"{'overall too' if overall else 'per chat only'}] {evaluators} "
        f"evaluators × {OFFICES} offices × {len(items)} items, {latency * 1000:.0f} ms latency\n"
        f"  delivery: every card in {delivery:.1f}s = {figures['delivery_ratio']:.2f} × the "
        f"physical limit ({limit:.1f}s; target ≤ 1.15); {messages:.1f} message(s) an "
        f"evaluator (one per ballot before: {OFFICES * len(items)})\n"
        f"  voting: {votes.presses} presses, {figures['presses_per_s']:.0f}/s "
        f"({votes.slowed} slowed by the burst throttle); "
        f"{len(expected)} final answers recorded exactly once: "
        f"{bool(figures['recorded_exactly'])} ({logged} log entries; verify "
        f"{'ok' if verified else 'FAILED'}); press → pop-up p95 "
        f"{figures['p95_toast_s']:.2f}s, median {figures['median_toast_s']:.2f}s (target < 1s);"
        f" last press → card shows the store p95 {figures['p95_settled_s']:.1f}s, max "
        f"{figures['max_settled_s']:.1f}s (target ≤ 5s); 429s answered {refused} "
        f"({overall_refused} of the overall limit, the rest a chat's), ignored {ignored} "
        f"(target 0); CPU a second: the bot {busy:.2f}, the stand-in and the people "
        f"{harness:.2f}; in the bot (its arrival → its pop-up): "
        + ", ".join(f"{share:.1%} within {bound}s" for bound, share in inside.items())
        + "\n"
        f"  the close: every card final in {closing:.1f}s = {figures['close_ratio']:.2f} × "
        f"the physical limit"
    )
    return figures


async def within_the_bot(port: int) -> dict[str, float]:
    """From the bot's /metrics: the share of presses whose pop-up was answered within each
    bound of its histogram, counted from the press's arrival at the bot (so the rest of
    the press → pop-up time is getUpdates', the transport's and this process's)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("evalbot_press_popup_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            counts[bound] = float(line.rsplit(" ", 1)[1])
    total = counts.get("+Inf", 0.0) or 1.0
    return {b: c / total for b, c in counts.items() if b in ("0.25", "0.5", "1.0", "2.0")}


@dataclass
class Storm:
    """Every press of the storm: press → pop-up (seconds), and when the last pop-up came."""

    toast: list[float] = field(default_factory=list)
    slowed: int = 0
    first: float = 0.0
    last: float = 0.0

    def figures(self) -> dict[str, float]:
        span = max(1e-9, self.last - self.first)
        return {
            "presses_per_s": len(self.toast) / span,
            "p95_s": quantile(self.toast, 0.95),
            "median_s": statistics.median(self.toast),
            "slowed": self.slowed,
        }


async def press_all(people: list[SimUser], items: list[str], rng: random.Random) -> Storm:
    """Every evaluator presses an answer under each item of the first office, all at the
    same moment; each press waits for its pop-up (a press slowed by a burst throttle is
    pressed again, as a person would)."""
    storm = Storm()

    async def press(person: SimUser, data: str) -> None:
        while True:
            pressed = time.perf_counter()
            tap = await person.press(card_id(person) or 1, data)
            said = (await tap.answer(timeout=300)).text or ""
            storm.toast.append(time.perf_counter() - pressed)
            storm.last = max(storm.last, time.perf_counter())
            if "太快" not in said:
                return
            storm.slowed += 1

    presses = [(p, f"b:o00:{item}:{rng.randrange(4)}") for p in people for item in items]
    storm.first = time.perf_counter()
    await asyncio.gather(*(press(p, data) for p, data in presses))
    return storm


async def profiler(bot: BotProcess, out: str | None) -> asyncio.subprocess.Process | None:
    """py-spy sampling the bot's process (threads included, idle left out) into ``out``
    in its raw format, or nothing without ``out``."""
    if out is None or bot.process is None:
        return None
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")),
        *("record", "--pid", str(bot.process.pid), "--format", "raw", "--rate", "250"),
        *("--output", out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # py-spy attached
    return spy


SETTINGS = ("sqlite", "pg", "pg-webhook-1", "pg-webhook-2")


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL server processes."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].split(")", 1)
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if name == "postgres":
            ticks += sum(int(f) for f in fields.split()[11:13])
    return ticks / os.sysconf("SC_CLK_TCK")


SECRET = "bench_secret"


@contextlib.asynccontextmanager
async def storm_bots(
    setting: str, standin: StandIn, folder: Path, campaign: Path, db: str, lanes: int | None
) -> AsyncIterator[list[BotProcess]]:
    """The bots of a setting, started: ``evalbot run`` polling (SQLite or PostgreSQL), or
    one or two instances in webhook mode behind a round-robin proxy (PostgreSQL)."""
    env = {"EVALBOT_BALLOT_KEY": str(folder / "ballot-key")}
    run = ["-m", "bot.cli", "run", *(["--lanes", str(lanes)] if lanes else [])]
    if not setting.startswith("pg-webhook"):
        bot = BotProcess(standin, run, folder / "storm.sqlite3", campaign, env, db=db)
        await bot.start()
        try:
            yield [bot]
        finally:
            await bot.stop()
        return
    ports = [free_port() for _ in range(int(setting[-1]))]
    async with RoundRobin(ports) as proxy:
        hook = f"http://127.0.0.1:{proxy.port}/hook"
        bots = [
            BotProcess(
                standin,
                [*run, "--webhook", hook, "--port", str(port), "--secret-token", SECRET],
                folder / f"w{n}.sqlite3",
                campaign,
                env,
                db=db,
            )
            for n, port in enumerate(ports)
        ]
        try:
            for bot in bots:
                await bot.start(said=b"webhook listening on")
            yield bots
        finally:
            for bot in bots:
                await bot.stop()


async def storm(
    evaluators: int,
    latency: float,
    seed: int = 5,
    lanes: int | None = None,
    profile: str | None = None,
    settings: Sequence[str] = ("sqlite",),
) -> dict[str, float]:
    """The storm of issue 24: each setting of ``settings`` (``evalbot run`` on SQLite, on
    PostgreSQL, one or two webhook instances on PostgreSQL), then the floor bot (bench/
    floor_bot.py) on the same stand-in settings, each receiving every evaluator's presses
    under the five items of one office at the same moment."""
    from bench.floor_bot import FloorBot

    found: dict[str, dict[str, float]] = {}
    cluster = None
    if any(s.startswith("pg") for s in settings):
        cluster, why = pgcluster.start()
        if cluster is None:
            raise SystemExit(f"the storm on PostgreSQL needs PostgreSQL: {why}")
    try:
        with tempfile.TemporaryDirectory(prefix="evalbot-storm-") as scratch:
            folder = Path(scratch)
            campaign = campaign_file(folder)
            items = [i.id for i in load_campaign(campaign).items]
            for n, setting in enumerate(settings):
                db = str(folder / f"storm{n}.sqlite3")
                if cluster is not None and setting.startswith("pg"):
                    conn = await asyncpg.connect(cluster.url())
                    await conn.execute(f"CREATE DATABASE storm{n}")
                    await conn.close()
                    db = cluster.url(f"storm{n}")
                found[setting] = await storm_on(
                    setting, db, folder, campaign, items, evaluators, latency, seed, lanes, profile
                )
            async with StandIn(latency=latency, limits=FloodLimits.telegram()) as standin:
                floor_db = folder / "floor.sqlite3"
                floor = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bench.floor_bot", standin.base_url, standin.token,
                    str(floor_db),
                )  # fmt: skip
                people = [standin.user(60_000 + n, f"代表{n}") for n in range(evaluators)]
                presses = await press_all(people, items, random.Random(seed))
                floor.send_signal(signal.SIGTERM)
                await floor.wait()
                found["floor"] = {**presses.figures(), "stored": FloorBot.stored(floor_db)}
    finally:
        if cluster is not None:
            cluster.stop()
    bare = found["floor"]
    expected = evaluators * len(items)
    print(
        f"[storm] {evaluators} evaluators press an answer under each of the {len(items)} "
        f"items of their card at the same moment ({expected} presses), {latency * 1000:.0f} "
        f"ms latency on every Bot API call"
    )
    for setting in settings:
        ours = found[setting]
        print(
            f"  evalbot, {setting}: {ours['presses_per_s']:.0f} presses/s until every pop-up "
            f"({ours['presses_per_s'] / bare['presses_per_s']:.2f} of the floor's); press → "
            f"pop-up p95 {ours['p95_s']:.2f}s, median {ours['median_s']:.2f}s (target p95 < "
            f"2 s); {int(ours['stored'])} ballots stored, {int(ours['tallied'])} tallied (of "
            f"{expected}), verify {'ok' if ours['verify_ok'] else 'FAILED'}; "
            f"{int(ours['slowed'])} slowed; the bots' CPU {ours['busy']:.2f} s a second"
            + (f", PostgreSQL's {ours['server_busy']:.2f}" if setting.startswith("pg") else "")
            + f", the stand-in's and the people's {ours['harness_busy']:.2f}"
        )
    print(
        f"  floor (no framework, one transaction a batch): {bare['presses_per_s']:.0f} "
        f"presses/s, p95 {bare['p95_s']:.2f}s, median {bare['median_s']:.2f}s; "
        f"{int(bare['stored'])} stored"
    )
    return {f"{who}_{k}": v for who, figures in found.items() for k, v in figures.items()}


async def storm_on(
    setting: str,
    db: str,
    folder: Path,
    campaign: Path,
    items: list[str],
    evaluators: int,
    latency: float,
    seed: int,
    lanes: int | None,
    profile: str | None,
) -> dict[str, float]:
    """One setting's storm, on its own stand-in and database."""
    async with (
        StandIn(latency=latency, limits=FloodLimits.telegram()) as standin,
        storm_bots(setting, standin, folder, campaign, db, lanes) as bots,
    ):
        await register(db, evaluators)
        people = [standin.user(60_000 + n, f"代表{n}") for n in range(evaluators)]
        organiser = standin.user(ORGANISER, "纠风办")
        await organiser.send("/ballots open")
        asked = await organiser.reply(timeout=60)
        if asked.has_button("现在开放"):
            await organiser.tap("现在开放", asked)
            await organiser.reply(timeout=60)
        await asyncio.gather(*(until(p, has_card) for p in people))
        spy = await profiler(bots[0], profile)
        cpu, server, here = sum(b.cpu_seconds() for b in bots), postgres_cpu(), time.process_time()
        presses = await press_all(people, items, random.Random(seed))
        span = max(1e-9, presses.last - presses.first)
        busy = (sum(b.cpu_seconds() for b in bots) - cpu) / span
        server_busy = (postgres_cpu() - server) / span
        harness = (time.process_time() - here) / span  # the stand-in and the 300 people
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
    opened = await open_database(db)
    try:
        stored = int(await opened.fetchval("SELECT COUNT(*) FROM ballots") or 0)
        tallied = int(await opened.fetchval("SELECT SUM(count) FROM tallies") or 0)
    finally:
        await opened.close()
    from bot.ballots.evaluation import verify

    verified = (await verify(db)).ok
    return {
        **presses.figures(),
        "stored": stored,
        "tallied": tallied,
        "busy": busy,
        "server_busy": server_busy,
        "harness_busy": harness,
        "verify_ok": float(verified),
    }


PACES = ((2.0, 5.0), (1.0, 2.0), (0.5, 1.0), (0.25, 0.5), (0.1, 0.25), (0.0, 0.1))


async def knee(evaluators: int, latency: float, edits: str, start: float = 5.0) -> None:
    """Raise the pace until p95 press → pop-up passes 1 s (from the paces no slower than
    a press every ``start`` seconds)."""
    for low, high in (p for p in PACES if p[1] <= start):
        figures = await run(evaluators, latency, edits, (low, high))
        print(
            f"  knee: a press every {low}-{high}s: {figures['presses_per_s']:.0f} presses/s, "
            f"p95 press → pop-up {figures['p95_toast_s']:.2f}s"
        )
        if figures["p95_toast_s"] > 1.0:
            print(f"  the knee: p95 passes 1 s at {figures['presses_per_s']:.0f} presses/s")
            return
    print("  p95 stayed under 1 s at every pace tried")


async def on_both(evaluators: int, latency: float, edits: str, db: str) -> None:
    """The meeting (at a person's pace) on SQLite and on PostgreSQL, in the same run."""
    cluster, why = pgcluster.start()
    if cluster is None:
        raise SystemExit(f"--db {db} needs PostgreSQL: {why}")
    try:
        for n, mode in enumerate(("chat", "overall") if edits == "both" else (edits,)):
            lite = await run(evaluators, latency, mode, (2.0, 5.0)) if db == "both" else None
            conn = await asyncpg.connect(cluster.url())
            await conn.execute(f"CREATE DATABASE ballots{n}")
            await conn.close()
            pg = await run(evaluators, latency, mode, (2.0, 5.0), url=cluster.url(f"ballots{n}"))
            if lite is not None:
                print(
                    f"  PostgreSQL / SQLite: delivery {pg['delivery_s'] / lite['delivery_s']:.2f}"
                    f", press → pop-up p95 {pg['p95_toast_s'] / lite['p95_toast_s']:.2f}, "
                    f"the close {pg['close_s'] / lite['close_s']:.2f}"
                )
    finally:
        cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluators", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--edits", choices=("chat", "overall", "both"), default="both")
    parser.add_argument("--knee", action="store_true", help="also raise the pace to the knee")
    parser.add_argument(
        "--knee-only",
        type=float,
        metavar="SECONDS",
        help="only the knee, from the paces of at most one press every SECONDS",
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="sqlite",
        help="both: each meeting on SQLite, then on PostgreSQL (a throwaway cluster)",
    )
    parser.add_argument("--lanes", type=int, help="evalbot run --lanes")
    parser.add_argument(
        "--settings",
        default="sqlite",
        help=f"the storm: a comma-separated list of {', '.join(SETTINGS)} (or all)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy samples the bot during the presses (raw format, into FILE)",
    )
    parser.add_argument(
        "--storm",
        type=int,
        nargs="?",
        const=300,
        metavar="EVALUATORS",
        help="the storm: every evaluator presses five answers at once, beside the floor bot",
    )
    args = parser.parse_args()
    if args.storm:
        chosen = SETTINGS if args.settings == "all" else tuple(args.settings.split(","))
        if not set(chosen) <= set(SETTINGS):
            parser.error(f"--settings: choose from {', '.join(SETTINGS)}")
        asyncio.run(storm(args.storm, args.latency, lanes=args.lanes, profile=args.profile,
                          settings=chosen))  # fmt: skip
        raise SystemExit(0)
    if args.db != "sqlite":
        asyncio.run(on_both(args.evaluators, args.latency, args.edits, args.db))
        raise SystemExit(0)
    for edits in ("chat", "overall") if args.edits == "both" else (args.edits,):
        if args.knee_only is not None:
            asyncio.run(knee(args.evaluators, args.latency, edits, args.knee_only))
            continue
        asyncio.run(run(args.evaluators, args.latency, edits, (2.0, 5.0), profile=args.profile,
                        lanes=args.lanes))  # fmt: skip
        if args.knee:
            asyncio.run(knee(args.evaluators, args.latency, edits))
