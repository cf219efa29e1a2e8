"""Putting it into service: what an administrator meets at the command line.

Errors in one line (what, and what to do), no traceback and no secret; the example
campaign refused unless asked; Telegram's HTTPS for the webhook; files readable by the
bot's account only; the Bot API through a real HTTP proxy (Debian's tinyproxy)."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from bot.standin import StandIn
from bot.standin.process import BotProcess, free_port

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
