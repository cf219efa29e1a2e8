"""Putting it into service: what an administrator meets at the command line.

Errors in one line (what, and what to do), no traceback and no secret; the example
campaign refused unless asked; Telegram's HTTPS for the webhook; files readable by the
bot's account only; the Bot API through a real HTTP proxy (Debian's tinyproxy)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
import stat
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.db.database import MIGRATION_FUNCTIONS, kept_before, migrations, schema_version
from bot.standin import StandIn
from bot.standin.process import (
    BotProcess,
    free_port,
    opinion_text,
    resident_files,
    wait_for,
)
from tests.support.harness import Harness
from tests.support.helpers import open_window
from tests.support.storm import command, evaluator_votes

TOKEN = "987654321:AAHsecretSECRETsecretSECRETsecret_x"  # (shaped like a real one)


async def evalbot(*args: str, **env: str) -> tuple[int, str]:
    """``evalbot ARGS`` in its own process with only ``env`` set; its exit code, and
    everything it printed (both streams)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env={"PATH": "/usr/bin:/bin", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


def said(out: str) -> list[str]:
    """What a command printed, without the log's start-up line."""
    return [line for line in out.splitlines() if " INFO evalbot: " not in line]


async def test_a_wrong_token_and_an_unreachable_api_each_say_one_line(tmp_path: Path) -> None:
    async with StandIn() as standin:
        code, out = await evalbot(
            "run",
            "--example",
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=standin.base_url,
            EVALBOT_DB=str(tmp_path / "bot.sqlite3"),
        )
    assert code == 2
    assert said(out) == [
        "evalbot run: Telegram rejected the token in TELEGRAM_BOT_TOKEN; copy it again from "
        "@BotFather (/mybots → API Token)"
    ]
    assert "secret" not in out.lower() and "Traceback" not in out
    closed = free_port()  # nothing listens there
    code, out = await evalbot(
        "run",
        "--example",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot",
        EVALBOT_DB=str(tmp_path / "bot.sqlite3"),
    )
    assert code == 69
    [line] = said(out)
    assert line.startswith(f"evalbot run: cannot reach the Bot API at http://127.0.0.1:{closed}/")
    assert "EVALBOT_PROXY" in line and "secret" not in out.lower() and "Traceback" not in out


async def test_a_database_that_does_not_answer_says_one_line_without_its_password(
    tmp_path: Path,
) -> None:
    closed = free_port()
    code, out = await evalbot(
        "run",
        "--example",
        TELEGRAM_BOT_TOKEN=TOKEN,
        EVALBOT_DB=f"postgresql://evalbot:hunter2pw@127.0.0.1:{closed}/evalbot",
        EVALBOT_BALLOT_KEY=str(tmp_path / "ballot-key"),
    )
    assert code == 2
    [line] = said(out)
    assert line.startswith(f"evalbot run: cannot reach postgresql://evalbot:***@127.0.0.1:{closed}")
    assert "hunter2pw" not in out and "secret" not in out.lower()


async def test_the_example_campaign_runs_only_when_asked(tmp_path: Path) -> None:
    code, out = await evalbot(
        "run", TELEGRAM_BOT_TOKEN=TOKEN, EVALBOT_DB=str(tmp_path / "bot.sqlite3")
    )
    assert code == 2 and "is the bundled example campaign" in out and "--example" in out
    assert not (tmp_path / "bot.sqlite3").exists()  # nothing was started


@pytest.mark.parametrize(
    "address",
    ["http://bot.example.org/hook", "ftp://bot.example.org/hook", "bot.example.org/hook"],
)
async def test_the_webhook_takes_an_https_address(address: str, tmp_path: Path) -> None:
    code, out = await evalbot(
        "run", "--example", "--webhook", address, TELEGRAM_BOT_TOKEN=TOKEN,
        EVALBOT_DB=str(tmp_path / "bot.sqlite3"),
    )  # fmt: skip
    assert code == 2 and "--webhook takes an https:// address" in out
    assert not (tmp_path / "bot.sqlite3").exists()


async def test_backups_are_the_bot_accounts_only_and_a_bad_path_says_so(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    async with StandIn() as standin:
        bot = BotProcess(standin, ["-m", "bot.cli", "run"], db)
        await bot.start()
        await bot.stop()
    old = os.umask(0o022)  # an administrator's usual umask: evalbot sets its own
    try:
        code, out = await evalbot("backup", str(tmp_path / "copy.sqlite3"), EVALBOT_DB=str(db))
        assert code == 0, out
        for made in (db, tmp_path / "copy.sqlite3", tmp_path / "ballot-key"):
            if made.exists():
                assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
        code, out = await evalbot("backup", "/nonexistent/x.sqlite3", EVALBOT_DB=str(db))
    finally:
        os.umask(old)
    assert code == 2
    assert out.splitlines() == ["evalbot backup: the folder /nonexistent does not exist"]


async def test_the_version() -> None:
    code, out = await evalbot("--version")
    assert code == 0 and out.startswith("evalbot ") and out.split()[1][0].isdigit()


async def test_the_bot_api_through_an_http_proxy(tmp_path: Path) -> None:
    """EVALBOT_PROXY: every call goes through the proxy (Debian's tinyproxy, installed by
    .ci/run; its log shows each), and a resident is answered as without it."""
    program = shutil.which("tinyproxy", path="/usr/bin:/usr/sbin")
    if program is None:
        if os.environ.get("CI"):
            raise AssertionError("tinyproxy is not installed (.ci/run installs it)")
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy)")
    port = free_port()
    log = tmp_path / "tinyproxy.log"
    config = tmp_path / "tinyproxy.conf"
    config.write_text(
        f'Port {port}\nListen 127.0.0.1\nTimeout 60\nLogFile "{log}"\nLogLevel Connect\n'
        "Allow 127.0.0.1\nMaxClients 100\nDisableViaHeader Yes\n"
    )
    proxy = await asyncio.create_subprocess_exec(program, "-d", "-c", str(config))
    try:
        async with StandIn() as standin:
            for _ in range(100):  # tinyproxy listening
                if log.exists():
                    break
                await asyncio.sleep(0.1)
            bot = BotProcess(
                standin,
                ["-m", "bot.cli", "run"],
                tmp_path / "bot.sqlite3",
                env={"EVALBOT_PROXY": f"http://127.0.0.1:{port}"},
            )
            await bot.start()
            try:
                resident = standin.user(5501, "王阿姨")
                await resident.send("/start")
                assert "社保" in (await resident.reply(timeout=30)).text
            finally:
                await bot.stop()
    finally:
        proxy.terminate()
        await proxy.wait()
    through = log.read_text(errors="replace")
    assert "getUpdates" in through and "sendMessage" in through
    logged = bot.log.read_text(errors="replace")
    assert "WARNING" not in logged and "ERROR" not in logged, logged
    assert standin.token.split(":")[1] not in logged


async def test_a_person_finds_their_telegram_id(harness: Harness) -> None:
    """/myid: what the administrator needs to write an organiser into the campaign file."""
    person = harness.resident(7123456, "张科长")
    await person.send("/myid")
    said = (await person.reply()).text
    assert "7123456" in said and "组织者名单" in said
    await person.send("/help")
    assert "/myid" in (await person.reply()).text


async def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    """/healthz, /readyz and /metrics of a running evalbot (EVALBOT_HEALTH_LISTEN: no
    console, no webhook); the metrics only for this machine, and without what people
    wrote or who they are."""
    port = free_port()
    async with StandIn() as standin:
        bot = BotProcess(
            standin,
            ["-m", "bot.cli", "run"],
            tmp_path / "bot.sqlite3",
            env={"EVALBOT_HEALTH_LISTEN": f"127.0.0.1:{port}", "EVALBOT_LOG_FORMAT": "json"},
        )
        await bot.start()
        try:
            resident = standin.user(735024691, "王阿姨")
            assert await resident_files(resident, 7) == 7  # updates sent: one opinion
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/healthz") as r:
                    assert r.status == 200 and await r.text() == "ok\n"
                async with http.get(f"{base}/readyz") as r:
                    ready = await r.json()
                    assert r.status == 200, ready
                assert ready["database"] == "ok" and ready["role"] == "poller"
                # (the notices of the new case to its office and the organiser may be queued)
                assert ready["outbox_backlog"] in range(0, 4)
                assert 0 <= ready["last_update_seconds_ago"] < 60
                async with http.get(f"{base}/metrics") as r:
                    assert r.status == 200
                    metrics = await r.text()
                forwarded = {"X-Forwarded-For": "203.0.113.9"}  # as through nginx
                async with http.get(f"{base}/metrics", headers=forwarded) as r:
                    assert r.status == 404
        finally:
            await bot.stop()
    assert 'evalbot_updates_total{kind="message"}' in metrics
    assert 'evalbot_cases{state="filed"} 1.0' in metrics
    assert re.search(r"^evalbot_outbox_backlog [0-3]\.0$", metrics, re.M)
    assert "evalbot_press_popup_seconds_bucket" in metrics
    lines = [json.loads(line) for line in bot.log.read_text().splitlines() if line.strip()]
    assert lines and all({"timestamp", "level", "logger", "message"} <= set(x) for x in lines)
    assert any(x["message"].startswith("evalbot starts") for x in lines)
    logged = json.dumps(lines, ensure_ascii=False)
    # (the id as a whole number: a timestamp's digits once held a shorter id by chance)
    name, text = re.escape("王阿姨"), re.escape(opinion_text(7)[:6])
    for private in (name, r"(?<!\d)735024691(?!\d)", text):
        for shown in (metrics, json.dumps(ready), logged):
            assert not re.search(private, shown), private


def as_of_removed(ranking: str) -> str:
    """The ranking without its "as of" line (the minute it was asked)."""
    return "\n".join(line for line in ranking.splitlines() if not line.startswith("截至"))


def rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """What a restore must give back exactly: the cases, the tallies, the ballots' log."""
    conn = sqlite3.connect(db)
    try:
        return {
            table: conn.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2").fetchall()
            for table, columns in (
                ("cases", "id, unit_id, state, text"),
                ("tallies", "unit_id, item_id, category, answer, count"),
                ("ballot_log", "seq, hash"),
            )
        }
    finally:
        conn.close()


async def test_backup_wipe_restore_verify(tmp_path: Path) -> None:
    """The administrator's drill: scheduled backups kept to the newest N; the database
    lost; `evalbot restore` refused while the bot runs and over a database without
    --force; then restored, verified, and the bot shows the same ranking and cases."""
    db, folder = tmp_path / "bot.sqlite3", tmp_path / "backups"
    folder.mkdir()
    async with StandIn() as standin:
        bot = BotProcess(standin, ["-m", "bot.cli", "run"], db)
        await bot.start()
        organiser = standin.user(100000001, "纠风办李主任")
        try:
            for n in range(2):
                await resident_files(standin.user(5600 + n, f"居民{n}"), n)
            listing = await command(organiser, "/invite evaluator public_rep 1 dongjie", "每个链接")
            code = next(w.split("start=")[1] for w in listing.split() if "start=" in w)
            evaluator = standin.user(5700, "代表")
            await command(evaluator, f"/start {code}", "测评代表")
            assert "测评已开放" in (await open_window(organiser)).text
            await wait_for(evaluator, lambda m: "制度建设" in m.text, 60)  # the card
            await evaluator_votes(evaluator, 1)
            ranking = as_of_removed(await command(organiser, "/rank", "排名"))
            for _ in range(3):  # the timer's runs: each a new file, the newest two kept
                code_, out = await evalbot(
                    "backup", "--into", str(folder), "--keep", "2", EVALBOT_DB=str(db)
                )
                assert code_ == 0, out
                await asyncio.sleep(1.1)  # (a file a second)
            code_, out = await evalbot("restore", str(tmp_path / "none"), EVALBOT_DB=str(db))
            assert code_ == 2 and "does not exist" in out
            newest = sorted(folder.glob("evalbot-*.sqlite3"))[-1]
            code_, out = await evalbot("restore", str(newest), "--force", EVALBOT_DB=str(db))
            assert code_ == 2 and "in use by a running evalbot" in out  # the bot runs
        finally:
            await bot.stop()
        kept = sorted(folder.glob("evalbot-*.sqlite3"))
        assert len(kept) == 2 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in kept)
        before = rows(db)
        assert before["tallies"] and before["ballot_log"] and len(before["cases"]) == 2
        code_, out = await evalbot("restore", str(kept[-1]), EVALBOT_DB=str(db))
        assert code_ == 2 and "--force" in out  # an existing database is not replaced quietly
        for lost in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            lost.unlink(missing_ok=True)  # the disk lost
        code_, out = await evalbot("restore", str(kept[-1]), EVALBOT_DB=str(db))
        assert code_ == 0 and "the ballots recount" in out, out
        assert rows(db) == before
        assert [n for n in os.listdir(tmp_path) if ".restoring" in n] == []  # (the check's copy)
        code_, out = await evalbot("verify", EVALBOT_DB=str(db))
        assert code_ == 0, out
        await bot.start()
        try:
            assert as_of_removed(await command(organiser, "/rank", "排名")) == ranking
        finally:
            await bot.stop()


async def test_an_upgrade_lists_its_migrations_and_keeps_a_copy_first(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    known = migrations()
    conn = sqlite3.connect(db)  # a database as the version before last left it
    for function in (*MIGRATION_FUNCTIONS, "evalbot_words"):  # (data there is none of)
        conn.create_function(function, 1, lambda value: value)
    try:
        for number, _, sql in known[:-2]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    finally:
        conn.close()
    old = len(known) - 2
    code, out = await evalbot("migrate", "--dry-run", EVALBOT_DB=str(db))
    assert code == 0, out
    assert f"schema version {old}" in out
    assert [line.split()[-1] for line in out.splitlines() if "would run" in line] == [
        name for _, name, _ in known[-2:]
    ]
    assert schema_version(db) == old  # nothing changed
    code, out = await evalbot("migrate", EVALBOT_DB=str(db))
    assert code == 0 and f"done: schema version {len(known)}" in out, out
    assert schema_version(db) == len(known)
    kept = kept_before(db, old, len(known))
    assert schema_version(kept) == old and stat.S_IMODE(kept.stat().st_mode) == 0o600
    code, out = await evalbot("migrate", "--dry-run", EVALBOT_DB=str(db))
    assert code == 0 and "up to date" in out
