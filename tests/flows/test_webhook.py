"""Webhook mode: the stand-in POSTs updates to the bot as Telegram does."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp

from bot.app import EvalBot
from bot.campaign import Campaign
from bot.clock import FakeClock
from bot.console import auth
from bot.console.server import ConsoleConfig
from bot.runtime.webhook import SECRET_HEADER, WebhookConfig
from bot.standin import StandIn
from bot.standin.process import free_port
from tests.support.harness import START, file_one

SECRET = "s3cret_Token-for-tests"


def webhook_bot(standin: StandIn, campaign: Campaign, db: Path, port: int) -> EvalBot:
    return EvalBot(
        campaign,
        standin.token,
        str(db),
        base_url=standin.base_url,
        clock=FakeClock(START),
        run_jobs=False,
        webhook=WebhookConfig(f"http://127.0.0.1:{port}/hook", "127.0.0.1", port, SECRET),
    )


async def inbox_count(bot: EvalBot) -> int:
    return int(await bot.require_services().db.fetchval("SELECT COUNT(*) FROM inbox"))


async def test_a_resident_files_through_the_webhook_and_nothing_is_lost_across_a_restart(
    tmp_path: Path, campaign: Campaign
) -> None:
    port = free_port()
    async with StandIn() as standin:
        bot = webhook_bot(standin, campaign, tmp_path / "bot.sqlite3", port)
        await bot.start()
        try:
            assert standin.world.webhook == {
                "url": f"http://127.0.0.1:{port}/hook",
                "secret_token": SECRET,
                "max_connections": 40,  # Telegram's default: the bot does not lower it
            }
            wang = standin.user(4001, "王阿姨")
            assert "案件编号是 1" in await file_one(wang)
            assert standin.webhook.delivered >= 7 and standin.webhook.refused == 0
        finally:
            await bot.stop()
        # while the bot is down, Telegram keeps what is sent and tries again
        await wang.send("/status")
        for _ in range(100):
            if standin.webhook.refused:
                break
            await asyncio.sleep(0.02)
        assert standin.webhook.refused >= 1 and standin.pending_updates() == 1
        bot = webhook_bot(standin, campaign, tmp_path / "bot.sqlite3", port)
        await bot.start()
        try:
            status = await wang.reply(timeout=15)  # the /status sent while it was down
            assert any("第 1 号" in label for row in status.buttons for label in row)
            assert standin.pending_updates() == 0
        finally:
            await bot.stop()


async def test_a_request_without_the_secret_gets_403_and_changes_nothing(
    tmp_path: Path, campaign: Campaign
) -> None:
    port = free_port()
    async with StandIn() as standin:
        bot = webhook_bot(standin, campaign, tmp_path / "bot.sqlite3", port)
        await bot.start()
        try:
            url = f"http://127.0.0.1:{port}/hook"
            organiser = standin.user(100000001, "纠风办李主任")
            forged = {
                "update_id": 900001,
                "message": {
                    "message_id": 1,
                    "date": 1_800_000_000,
                    "chat": {"id": 100000001, "type": "private", "first_name": "假"},
                    "from": {"id": 100000001, "is_bot": False, "first_name": "假"},
                    "text": "/publish",
                },
            }
            before = await inbox_count(bot)
            async with aiohttp.ClientSession() as session:
                for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
                    async with session.post(url, json=forged, headers=headers) as answer:
                        assert answer.status == 403
                assert await inbox_count(bot) == before
                async with session.post(
                    url, data=b"{not json", headers={SECRET_HEADER: SECRET}
                ) as answer:
                    assert answer.status == 400
                async with session.post(
                    url, json={"hello": 1}, headers={SECRET_HEADER: SECRET}
                ) as answer:
                    assert answer.status == 400
                assert await inbox_count(bot) == before
                # the right secret: the update is in the inbox when the 200 comes back
                genuine = {**forged, "update_id": 900002}
                genuine["message"] = {**forged["message"], "text": "/start"}  # type: ignore[dict-item]
                async with session.post(
                    url, json=genuine, headers={SECRET_HEADER: SECRET}
                ) as answer:
                    assert answer.status == 200
                    stored = await bot.require_services().db.fetchval(
                        "SELECT COUNT(*) FROM inbox WHERE update_id = 900002"
                    )
                    assert stored == 1
            await bot.idle()
            assert bot.webhook_server is not None and bot.webhook_server.refused == 3
            said = [m.text for m in organiser.transcript()]
            assert len(said) == 1 and "已公布" not in said[0]  # /start answered, nothing published
            assert (
                await bot.require_services().db.fetchval("SELECT COUNT(*) FROM publications") == 0
            )
        finally:
            await bot.stop()


async def test_evalbot_run_with_a_webhook_serves_and_stops_on_sigterm(
    tmp_path: Path, campaign: Campaign
) -> None:
    port = free_port()
    async with StandIn() as standin:
        env = {
            "PATH": "/usr/bin:/bin",
            "TELEGRAM_BOT_TOKEN": standin.token,
            "TELEGRAM_API_BASE_URL": standin.base_url,
            "EVALBOT_DB": str(tmp_path / "bot.sqlite3"),
        }
        command = [sys.executable, "-m", "bot.cli", "run", "--example", "--webhook"]
        bad = await asyncio.create_subprocess_exec(
            *command,
            f"http://127.0.0.1:{port}/hook",
            "--secret-token",
            "no spaces!",
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await bad.communicate()
        assert bad.returncode == 2 and b"--secret-token takes" in err
        process = await asyncio.create_subprocess_exec(
            *command,
            f"http://127.0.0.1:{port}/hook",
            "--listen",
            "127.0.0.1",
            "--port",
            str(port),
            "--secret-token",
            SECRET,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            for _ in range(500):
                if standin.world.webhook:
                    break
                await asyncio.sleep(0.02)
            assert standin.world.webhook == {
                "url": f"http://127.0.0.1:{port}/hook",
                "secret_token": SECRET,
                "max_connections": 40,  # Telegram's default: the bot does not lower it
            }
            resident = standin.user(4101, "王阿姨")
            await resident.send("/start")
            assert "政风行风" in (await resident.reply(timeout=20)).text
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()[-2000:]
        assert b"evalbot stopped" in err


async def test_the_console_shares_the_webhook_s_port(tmp_path: Path, campaign: Campaign) -> None:
    port = free_port()
    async with StandIn() as standin:
        bot = EvalBot(
            campaign,
            standin.token,
            str(tmp_path / "bot.sqlite3"),
            base_url=standin.base_url,
            clock=FakeClock(START),
            run_jobs=False,
            webhook=WebhookConfig(f"http://127.0.0.1:{port}/hook", "127.0.0.1", port, SECRET),
            console=ConsoleConfig(f"http://127.0.0.1:{port}/console/"),
        )
        await bot.start()
        try:
            assert bot.console_port == port
            organiser = standin.user(100000001, "纠风办李主任")
            fields = {
                "user": json.dumps({"id": organiser.id, "first_name": "李"}),
                "auth_date": str(int(START.timestamp())),
            }
            signed = auth.sign_init_data(fields, standin.token)
            async with aiohttp.ClientSession() as session:
                async with session.get(
                    f"http://127.0.0.1:{port}/console/",
                    headers={"X-Telegram-Init-Data": signed},
                ) as r:
                    assert r.status == 200
                    assert "东街街道社保所" in await r.text()
                    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
                # the webhook still refuses a post without its secret
                async with session.post(f"http://127.0.0.1:{port}/hook", json={}) as r:
                    assert r.status == 403
        finally:
            await bot.stop()
