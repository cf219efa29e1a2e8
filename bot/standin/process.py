"""A bot process against the stand-in, for the benchmarks and the tests: the stand-in in
this process, the bot in another.

The bot under test runs as a separate process (``evalbot run`` pointed at the stand-in by
``TELEGRAM_API_BASE_URL``), as it would in production, so the stand-in and the scripted
users do not share its CPU. Scripted residents wait for each answer before acting again,
as people do.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.settings import REPO_EXAMPLE
from bot.standin import BotMessage, SimUser, StandIn

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port free now (the console's, a webhook's, a proxy's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """A bot process against the stand-in: ``evalbot run`` or the PTB echo bot."""

    def __init__(
        self,
        standin: StandIn,
        argv: list[str],
        db_path: Path | None = None,
        campaign: Path = REPO_EXAMPLE,
        env: dict[str, str] | None = None,
        db: str | None = None,
        log: Path | None = None,
    ) -> None:
        self.standin = standin
        self.argv = argv
        self.campaign = campaign
        self.extra_env = env or {}
        self.db_path = db_path or Path(tempfile.mkdtemp(prefix="evalbot-bench-")) / "b.sqlite3"
        self.db = db or str(self.db_path)  # a PostgreSQL URL, or the file
        self.process: asyncio.subprocess.Process | None = None
        self.log = log or self.db_path.with_suffix(".log")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": self.standin.token,
            "TELEGRAM_API_BASE_URL": self.standin.base_url,
            "EVALBOT_DB": self.db,
            "EVALBOT_CAMPAIGN": str(self.campaign),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    async def start(self, standby: bool = False, said: bytes | None = None) -> None:
        """Start, and wait until it polls (a ``standby`` until it says it stands by; with
        ``said``, until its log says that)."""
        calls_before = self.standin.world.calls.get("getUpdates", 0)
        said = said or (b"standby:" if standby else None)
        said_before = self.log.read_bytes().count(said) if said and self.log.exists() else 0
        with self.log.open("ab") as log:
            # the example campaign runs only when asked (evalbot run --example)
            example = ["--example"] if "run" in self.argv and self.campaign == REPO_EXAMPLE else []
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.argv,
                *example,
                env=self.env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while (
            self.log.read_bytes().count(said) <= said_before
            if said
            else self.standin.world.calls.get("getUpdates", 0) <= calls_before
        ):
            if self.process.returncode is not None:
                raise RuntimeError(f"the bot exited at start; see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not start polling; see {self.log}")
            await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float:
        """The CPU time the bot's process has used so far (Linux: /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def kill(self) -> None:
        """kill -9: no chance to clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def wait_for(
    user: SimUser, check: Callable[[BotMessage], bool], timeout: float = 120.0
) -> BotMessage:
    """Wait until the newest bot message in the user's chat satisfies ``check``."""
    found: list[BotMessage] = []

    def ready() -> bool:
        latest = user.last_changed()
        if latest is None:
            return False
        found[:] = [latest]
        return check(latest)

    if not await user.standin.world.wait(user.chat_id, ready, timeout):
        raise TimeoutError(f"{user.first_name} waited in vain; last: {user.transcript()[-1:]}")
    return found[0]


def opinion_text(n: int) -> str:
    return f"第{n}位居民：窗口办事要跑好几趟，材料清单不清楚。"


async def resident_files(user: SimUser, n: int, timeout: float = 120.0) -> int:
    """One resident files an opinion from /opinion to submission; return updates sent.

    Each step waits for the bot's answer to it (recognised by its content, so a repeated
    answer after a crash does not confuse the script).
    """
    steps: list[tuple[Callable[[], object], Callable[[BotMessage], bool]]] = [
        (lambda: user.send("/opinion"), lambda m: "第 1 步" in m.text),
        (lambda: user.tap("东街街道社保所"), lambda m: "第 2 步" in m.text),
        (lambda: user.tap("服务质量"), lambda m: "第 3 步" in m.text),
        (lambda: user.send(opinion_text(n)), lambda m: "第 4 步" in m.text),
        (lambda: user.tap("不加附件"), lambda m: "第 5 步" in m.text),
        (lambda: user.tap("对单位匿名"), lambda m: "第 6 步" in m.text),
        (lambda: user.tap("确认提交"), lambda m: "提交成功" in m.text),
    ]
    for act, done in steps:
        await act()  # type: ignore[misc]
        await wait_for(user, done, timeout)
    return len(steps)


async def echo_user(user: SimUser, messages: int, timeout: float = 120.0) -> int:
    """A user who sends ``messages`` texts, each after the echo of the one before."""
    for i in range(messages):
        text = f"echo {user.id} {i}"
        await user.send(text)
        await wait_for(user, lambda m, t=text: m.text == t, timeout)  # type: ignore[misc]
    return messages


class RoundRobin:
    """A small load balancer: each request to the next instance in turn; one that does not
    answer is skipped for the next (as nginx's proxy_next_upstream does)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = 0
        self.forwarded: Counter[int] = Counter()
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        headers["Content-Type"] = request.headers.get("Content-Type", "application/json")
        for _ in range(len(self.ports)):
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            try:
                url = f"http://127.0.0.1:{port}{request.path_qs}"
                async with self._session.post(url, data=body, headers=headers) as answer:
                    self.forwarded[port] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except (aiohttp.ClientError, TimeoutError):
                continue
        return web.Response(status=502)

    async def __aenter__(self) -> RoundRobin:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None and self._session is not None
        await self._runner.cleanup()
        await self._session.close()
