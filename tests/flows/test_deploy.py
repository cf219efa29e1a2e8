"""The files of ``deploy/`` as an administrator installs them.

- The systemd units pass ``systemd-analyze verify`` (their ExecStart pointed at this
  checkout's evalbot).
- Debian's nginx, with a certificate made by ``openssl`` here, serves each site: the
  console's login through it sets a ``Secure`` cookie and the console opens; the webhook's
  updates, posted by the stand-in over HTTPS as Telegram posts them, reach the bot with
  their secret header and are answered; /metrics and /readyz are not reachable through it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.standin import StandIn
from bot.standin.process import BotProcess, free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRET = "deploy_test_Secret-1"


def needs(program: str) -> str:
    """The program's path; a missing one fails in CI (.ci/run installs it), else skips."""
    found = shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        if os.environ.get("CI"):
            raise AssertionError(f"{program} is not installed (.ci/run installs it)")
        pytest.skip(f"{program} is not installed")
    return found


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = needs("systemd-analyze")
    evalbot = Path(sys.executable).with_name("evalbot")
    units = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])
    assert {u.name for u in units} >= {
        "evalbot.service",
        "evalbot-backup.service",
        "evalbot-backup.timer",
    }
    for unit in units:
        text = unit.read_text().replace("/opt/evalbot/venv/bin/evalbot", str(evalbot))
        (tmp_path / unit.name).write_text(text)
    done = subprocess.run(
        [analyze, "verify", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr  # warnings too


def certificate(folder: Path) -> Path:
    """A self-signed certificate for localhost, made by openssl; its key beside it."""
    needs("openssl")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder / "fullchain.pem"


def site(name: str, folder: Path, https: int, http: int, ports: dict[str, int]) -> str:
    """deploy/nginx/NAME as installed on this machine: its certificate, loopback ports."""
    text = (DEPLOY / "nginx" / name).read_text()
    text = re.sub(r"\n\s*listen \[::\]:\d+( ssl)?;", "", text)
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http};")
    text = text.replace("/etc/ssl/evalbot/", f"{folder}/")
    for address, port in ports.items():
        text = text.replace(address, f"127.0.0.1:{port}")
    return text


def configured(folder: Path, site_text: str) -> tuple[str, Path]:
    """nginx and its configuration around ``site_text``, checked by ``nginx -t``."""
    program = needs("nginx")
    (folder / "site.conf").write_text(site_text)
    (folder / "nginx.conf").write_text(
        f"daemon off;\nuser root;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events {}\nhttp {\n"
        f"  access_log off;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n  include {folder}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [program, "-t", "-c", str(folder / "nginx.conf"), "-p", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    return program, folder / "nginx.conf"


@asynccontextmanager
async def nginx(folder: Path, site_text: str, https: int) -> AsyncIterator[None]:
    program, config = configured(folder, site_text)
    process = await asyncio.create_subprocess_exec(program, "-c", str(config), "-p", str(folder))
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", https)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        yield
    finally:
        process.terminate()
        await process.wait()


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


async def test_the_single_server_site_serves_the_console_over_https(tmp_path: Path) -> None:
    cert = certificate(tmp_path)
    https, http, console = free_port(), free_port(), free_port()
    async with StandIn() as standin:
        bot = BotProcess(
            standin,
            ["-m", "bot.cli", "run"],
            tmp_path / "bot.sqlite3",
            env={
                "EVALBOT_CONSOLE_URL": f"https://localhost:{https}/console/",
                "EVALBOT_CONSOLE_LISTEN": f"127.0.0.1:{console}",
            },
        )
        await bot.start()
        text = site("evalbot.conf", tmp_path, https, http, {"127.0.0.1:8080": console})
        try:
            async with nginx(tmp_path, text, https):
                organiser = standin.user(100000001, "纠风办李主任")
                await organiser.send("/console")
                found = re.search(r'href="([^"]+/login\?t=[^"]+)"', (await organiser.reply()).html)
                assert found is not None
                link = found.group(1).replace("&amp;", "&")
                assert link.startswith(f"https://localhost:{https}/console/login?t=")
                connector = aiohttp.TCPConnector(ssl=trusting(cert))
                async with aiohttp.ClientSession(connector=connector) as web:
                    async with web.get(link, allow_redirects=False) as signed:
                        assert signed.status == 303
                        cookie = signed.headers["Set-Cookie"]
                    for flag in ("Secure", "HttpOnly", "SameSite=Strict"):
                        assert flag in cookie, cookie
                    session = cookie.split(";")[0]
                    page = f"https://localhost:{https}/console/"
                    async with web.get(page, headers={"Cookie": session}) as overview:
                        assert overview.status == 200
                        assert "东街街道社保所" in await overview.text()
                    async with web.get(f"https://localhost:{https}/healthz") as health:
                        assert health.status == 200
                    for private in ("/metrics", "/readyz"):
                        async with web.get(f"https://localhost:{https}{private}") as closed:
                            assert closed.status == 404, private
                    plain = f"http://127.0.0.1:{http}/console/"
                    async with web.get(plain, allow_redirects=False) as moved:
                        assert moved.status == 301
                        assert moved.headers["Location"].startswith("https://")
        finally:
            await bot.stop()


async def test_the_instances_site_passes_telegrams_updates_with_their_secret(
    tmp_path: Path,
) -> None:
    """The several-instances site, one instance on loopback behind it (the second address
    answers nothing: nginx passes to the one that does). The stand-in posts each update to
    https://localhost:PORT/tg as Telegram would, trusting the certificate as Telegram
    trusts one uploaded with setWebhook."""
    cert = certificate(tmp_path)
    https, http, first, second = free_port(), free_port(), free_port(), free_port()
    async with StandIn(webhook_trusts=trusting(cert)) as standin:
        text = site(
            "evalbot-instances.conf",
            tmp_path,
            https,
            http,
            {"127.0.0.1:8443": first, "127.0.0.1:8444": second},
        )
        async with nginx(tmp_path, text, https):
            bot = BotProcess(
                standin,
                [
                    "-m", "bot.cli", "run", "--webhook", f"https://localhost:{https}/tg",
                    "--port", str(first), "--secret-token", SECRET,
                ],
                tmp_path / "bot.sqlite3",
            )  # fmt: skip
            await bot.start(said=b"webhook listening on")
            try:
                resident = standin.user(5801, "赵大爷")
                await resident.send("/start")
                assert "社保" in (await resident.reply(timeout=30)).text
                assert standin.webhook.delivered >= 1
                # without the secret header, through nginx: refused by the bot
                connector = aiohttp.TCPConnector(ssl=trusting(cert))
                async with aiohttp.ClientSession(connector=connector) as web:
                    forged = {"update_id": 999999, "message": {}}
                    hook = f"https://localhost:{https}/tg"
                    async with web.post(hook, json=forged) as refused:
                        assert refused.status == 403
            finally:
                await bot.stop()
