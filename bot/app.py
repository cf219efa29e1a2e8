"""The composition root: builds the Application and runs the bot's parts together.

:class:`EvalBot` owns everything that runs: the database, the PTB application (with
``updater=None``: our own intake replaces PTB's updater), the processor, the poller, the
outbox and the jobs. ``post_init`` opens the resources and ``post_shutdown`` closes them.
Nothing runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

import handlers
from bot import ballot_key, rounds
from bot.ballots.cards import Desk
from bot.campaign import Campaign
from bot.chat import labels, notify
from bot.clock import Clock
from bot.console import fonts
from bot.console.server import PREFIX, Console, ConsoleConfig
from bot.db import ballots as ballot_store
from bot.db import open_database
from bot.db import roles as role_store
from bot.db import users as user_store
from bot.db.database import is_url, peek
from bot.errors import SettingsError
from bot.runtime import jobs
from bot.runtime.coordination import Alone, coordination
from bot.runtime.health import Health, Instance
from bot.runtime.intake import Poller, replay_pending
from bot.runtime.leases import instance_id
from bot.runtime.limiter import WaitOutFloods
from bot.runtime.outbox import Outbox
from bot.runtime.processor import Processor
from bot.runtime.transport import AiohttpRequest
from bot.runtime.webhook import WebhookConfig, WebhookServer
from bot.services import Services
from bot.texts import Texts
from handlers.context import SERVICES, Context

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class EvalBot:
    """The whole bot: build with the campaign and where to reach Telegram, then run."""

    def __init__(
        self,
        campaign: Campaign,
        token: str,
        db_path: str,
        *,
        base_url: str | None = None,
        clock: Clock | None = None,
        lanes: int = 64,
        poll_timeout: int = 10,
        outbox_rate: float = 30.0,
        chat_gap: float = 1.0,
        group_gap: float = 3.0,
        run_jobs: bool = True,
        webhook: WebhookConfig | None = None,
        ballot_key_path: Path | None = None,
        new_ballot_key: bool = False,
        edits_overall: bool = True,
        console: ConsoleConfig | None = None,
        console_listen: tuple[str, int] = ("127.0.0.1", 8080),
        proxy: str | None = None,
        health_listen: tuple[str, int] | None = None,
    ) -> None:
        self.campaign = campaign
        self.db_path = db_path
        self.clock = clock or Clock()
        self.lanes = lanes
        self.poll_timeout = poll_timeout
        self.outbox_rate = outbox_rate
        # seconds between two sends into one private chat, one group (Telegram's limits;
        # a test whose stand-in enforces none may shorten them: tests/support/harness.py)
        self.chat_gap, self.group_gap = chat_gap, group_gap
        self.run_jobs = run_jobs
        self.webhook = webhook
        if ballot_key_path is None and is_url(db_path):
            raise SettingsError(
                "with PostgreSQL, set EVALBOT_BALLOT_KEY to the ballot key's file (every "
                "instance reads the same key; keep it apart from the database's backups)"
            )
        self.ballot_key_path = ballot_key_path or ballot_key.default_path(Path(db_path))
        self.new_ballot_key = new_ballot_key
        self.edits_overall = edits_overall
        self.webhook_server: WebhookServer | None = None
        self.console = console
        self.console_listen = console_listen
        self.console_runner: web.AppRunner | None = None
        # /healthz, /readyz, /metrics: beside the webhook or the console, else here if given
        self.health_listen = health_listen
        self.health_runner: web.AppRunner | None = None
        self.health_port: int | None = None
        self.console_port: int | None = None
        self.token = token
        # the HTTP clients, kept to close them when the start fails before PTB owns them
        fresh = proxy is not None and (base_url or "").startswith("http://")
        self.requests = (
            AiohttpRequest(connection_pool_size=lanes + 16, proxy=proxy, fresh_connections=fresh),
            AiohttpRequest(connection_pool_size=1, proxy=proxy, fresh_connections=fresh),
        )
        self.application = build_application(token, base_url, lanes, self.requests)
        self._tasks: list[asyncio.Task[None]] = []
        self.instance = instance_id()
        self.sharing: Alone = Alone()  # chosen when the database is open (coordination)
        self.services: Services | None = None
        self.outbox: Outbox | None = None
        self.processor: Processor | None = None
        self.poller: Poller | None = None

    # -- start and stop ----------------------------------------------------------------------

    async def post_init(self, application: AnyApplication) -> None:
        """Open the database (migrating it), wire the services, set the command menus."""
        self.services = await self.open_services()
        application.bot_data[SERVICES] = self.services
        await set_commands(application, self.services)

    async def open_services(self) -> Services:
        """The database (migrated) and everything built on it, without Telegram: also what
        offline commands (``evalbot publish-page``) use."""
        claim = rounds.round_file(self.campaign)
        if is_url(self.db_path):  # its schema starts after the key moved out (no 0008)
            db = await open_database(self.db_path, claim)
            try:
                key, said = ballot_key.open_key(
                    (None, await ballot_store.any_cast(db)),
                    self.ballot_key_path,
                    new=self.new_ballot_key,
                )
            except BaseException:
                await db.close()
                raise
        else:
            key, said = ballot_key.open_key(
                peek(Path(self.db_path), ballot_key.OLD_KEY),
                self.ballot_key_path,
                new=self.new_ballot_key,
            )
            db = await open_database(
                self.db_path,
                claim,
                {"evalbot_pseudonym": key.pseudonym, "evalbot_origin": key.origin},
            )
        log.info("%s", said)
        self.sharing = coordination(db, self.instance)
        try:
            await ballot_key.bind(db, key, new=self.new_ballot_key)
            history = await rounds.load(db, self.campaign)
        except BaseException:
            await db.close()
            raise
        self.outbox = Outbox(
            db,
            self.application.bot,
            self.clock,
            per_second=self.outbox_rate,
            per_chat_seconds=self.chat_gap,
            per_group_seconds=self.group_gap,
            on_blocked=self._blocked,
            edits_overall=self.edits_overall,
            sharing=self.sharing,
        )
        services = Services(
            rounds.with_history(self.campaign, history),
            db,
            Texts(self.campaign.timezone),
            self.clock,
            self.outbox,
            key,
            console_url=self.console.public_url if self.console else None,
            rounds=history,
        )
        self.outbox.cards = Desk(services)
        return services

    async def post_shutdown(self, application: AnyApplication) -> None:
        if self.services is not None:
            await self.services.db.close()

    async def _blocked(self, chat_id: int) -> None:
        assert self.services is not None
        if chat_id > 0:
            await user_store.mark_blocked(self.services.db, chat_id, self.clock.now())

    async def start(self) -> None:
        """Open everything, replay what the inbox holds, then start polling and sending."""
        app = self.application
        try:
            await app.initialize()  # (asks Telegram who the bot is: the token's first use)
        except BaseException:
            for request in self.requests:  # nothing left open behind a failed start
                await request.shutdown()
            raise
        await self.post_init(app)
        await app.start()
        services = self.require_services()
        sharing = self.sharing
        self.processor = sharing.processor(
            app.process_update, services.db, self.clock, self.lanes, app.bot
        )
        await replay_pending(services.db, self.processor, app.bot)
        assert self.outbox is not None
        self._tasks += await sharing.start(services.db, self.processor)
        await self.outbox.prepare()
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        web_console = self.build_console(services)
        health = Health(services.db, Instance(self.role, self.processor_last_handled))

        def beside_the_webhook(app: web.Application) -> None:
            if web_console is not None:
                web_console.routes(app)
            health.routes(app)

        if self.webhook is not None:
            # listen first, then tell Telegram where: nothing it sends finds the door shut
            self.webhook_server = WebhookServer(
                self.webhook, app.bot, services.db, self.processor, self.clock
            )
            await self.webhook_server.start(
                beside_the_webhook, web_console.middlewares if web_console else ()
            )
            self.console_port = self.webhook_server.port if web_console else None
            await app.bot.set_webhook(
                self.webhook.url,
                secret_token=self.webhook.secret_token,
                allowed_updates=list(Update.ALL_TYPES),
            )
        else:
            self._tasks += await sharing.polling(services.db, self.poll)
        if web_console is not None and self.webhook is None:
            await self.serve_console(web_console, health)
        elif self.webhook is None and self.health_listen is not None:
            await self.serve_health(health)
        if web_console is not None:
            await give_console_buttons(services)
        if self.run_jobs:
            lease, tasks = await sharing.jobs(services.db)
            if lease is not None:  # the scheduled work runs while this lease is held
                app.bot_data[jobs.LEASE] = lease
            self._tasks += tasks
            jobs.schedule(app)

    async def poll(self) -> None:
        """Long polling into the inbox, until cancelled."""
        services = self.require_services()
        assert self.processor is not None
        bot = self.application.bot
        # a webhook left set by an earlier run would refuse getUpdates (its updates stay at
        # Telegram and come by polling)
        await bot.delete_webhook(drop_pending_updates=False)
        while True:  # (the database away, a failover: ask again; polling never stops for it)
            try:
                await self.sharing.taking_over(services.db, self.processor, bot)
                break
            except Exception as exc:  # noqa: BLE001
                log.warning("cannot read the inbox to take over (%s); again in 1 s",
                            type(exc).__name__)  # fmt: skip
                await asyncio.sleep(1.0)
        self.poller = Poller(bot, services.db, self.processor, self.clock, self.poll_timeout)
        log.info("polling (instance %s)", self.instance)
        try:
            await self.poller.run()
        finally:
            self.poller = None  # (the poller's lease lost: a standby again)

    def build_console(self, services: Services) -> Console | None:
        if self.console is None:
            return None
        bot = self.application.bot

        async def fetch_file(file_id: str) -> tuple[bytes, str]:
            found = await bot.get_file(file_id)
            return bytes(await found.download_as_bytearray()), found.file_path or ""

        # made once in the background (about ten seconds), before anyone asks for it
        self._tasks.append(asyncio.create_task(warm_font(), name="font"))
        return Console(services, self.token, self.console, fetch_file, bot.username)

    def role(self) -> str:
        """This instance's part: webhook, poller, or standby (another instance polls)."""
        if self.webhook is not None:
            return "webhook"
        return "poller" if self.poller is not None else "standby"

    def processor_last_handled(self) -> float | None:
        return self.processor.last_handled if self.processor is not None else None

    async def serve_health(self, health: Health) -> None:
        """/healthz, /readyz and /metrics on their own port (polling, no console)."""
        app = web.Application()
        health.routes(app)
        self.health_runner = web.AppRunner(app, access_log=None)
        await self.health_runner.setup()
        assert self.health_listen is not None
        host, port = self.health_listen
        await web.TCPSite(self.health_runner, host, port).start()
        addresses = self.health_runner.addresses
        self.health_port = int(addresses[0][1]) if addresses else port
        log.info("health and metrics on %s:%s", host, self.health_port)

    async def serve_console(self, web_console: Console, health: Health) -> None:
        """The console on its own port (polling mode: no webhook server to share), with
        the health routes beside it."""
        app = web_console.application()
        health.routes(app)
        self.console_runner = web.AppRunner(app, access_log=None)
        await self.console_runner.setup()
        host, port = self.console_listen
        await web.TCPSite(self.console_runner, host, port).start()
        addresses = self.console_runner.addresses
        self.console_port = int(addresses[0][1]) if addresses else port
        log.info("console listening on %s:%s%s", host, self.console_port, PREFIX)

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, stop sending, close."""
        if self.services is None:
            return  # not started, or stopped already
        if self.console_runner is not None:
            await self.console_runner.cleanup()
            self.console_runner = None
        if self.health_runner is not None:
            await self.health_runner.cleanup()
            self.health_runner = None
        for task in self._tasks:
            if task.get_name() == "poller":
                task.cancel()
        if self.webhook_server is not None:
            # stop taking updates; the webhook stays set, so Telegram keeps the rest
            await self.webhook_server.stop()
            self.webhook_server = None
        if self.processor is not None:
            await self.processor.stop()
        await self.sharing.close()
        if self.outbox is not None:
            await self.outbox.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        app = self.application
        if app.running:
            await app.stop()
        await app.shutdown()
        await self.post_shutdown(app)
        self.services = None

    async def run_forever(self) -> None:
        """Run until cancelled (Ctrl-C or SIGTERM), then stop cleanly."""
        await self.start()
        try:
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a loop that died takes the bot down with its error
        finally:
            await self.stop()

    def require_outbox(self) -> Outbox:
        if self.outbox is None:
            raise RuntimeError("the bot is not started")
        return self.outbox

    def require_services(self) -> Services:
        if self.services is None:
            raise RuntimeError("the bot is not started")
        return self.services

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every update received so far is processed (tests and the demo)."""
        assert self.processor is not None
        await self.processor.idle(timeout)


def build_application(
    token: str,
    base_url: str | None,
    lanes: int,
    requests: tuple[AiohttpRequest, AiohttpRequest] | None = None,
) -> AnyApplication:
    """The PTB application: HTML by default, our context type, every handler. ``requests``:
    the HTTP clients for the calls and for getUpdates (made here if not given)."""
    calls, polls = requests or (
        AiohttpRequest(connection_pool_size=lanes + 16),
        AiohttpRequest(connection_pool_size=1),
    )
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .updater(None)
        .context_types(ContextTypes(context=Context))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                tzinfo=dt.UTC,
            )
        )
        # aiohttp under PTB (see bot/runtime/transport.py); a connection per lane, plus the outbox.
        .request(calls)
        .get_updates_request(polls)
        .rate_limiter(WaitOutFloods())  # a reply's 429s, waited out in one place
    )
    if base_url:
        builder = builder.base_url(base_url)
        if base_url.endswith("/bot"):  # files are served beside the API: <root>/file/bot<token>/
            builder = builder.base_file_url(base_url[: -len("/bot")] + "/file/bot")
    application = builder.build()
    handlers.register(application)
    return application


async def warm_font() -> None:
    try:
        await asyncio.to_thread(fonts.web_font)
    except Exception:  # the pages still read with the system's fonts
        log.exception("the console's web font could not be made")


async def give_console_buttons(services: Services) -> None:
    """The console's menu button for every organiser, supervisor and member of staff (each
    queued once per console address; new team members get theirs with their invite)."""
    team = set(services.campaign.organisers) | set(await role_store.team_members(services.db))
    known = await user_store.known(services.db, sorted(team))
    async with services.db.transaction() as tx:
        for user_id in known:  # the others get theirs when they first /start
            await notify.console_button(tx, services, user_id)
    services.outbox.wake()


async def set_commands(application: AnyApplication, services: Services) -> None:
    """Each role's command menu, in Chinese and in English."""
    texts = services.texts
    try:
        for lang, code in (("zh", None), ("en", "en")):
            resident = [BotCommand(c, texts.gettext(lang, d)) for c, d in labels.COMMANDS_RESIDENT]
            await application.bot.set_my_commands(
                resident, scope=BotCommandScopeDefault(), language_code=code
            )
            organiser = [
                BotCommand(c, texts.gettext(lang, d)) for c, d in labels.COMMANDS_ORGANISER
            ]
            for user_id in sorted(services.campaign.organisers):
                await application.bot.set_my_commands(
                    organiser, scope=BotCommandScopeChat(user_id), language_code=code
                )
    except TelegramError as exc:
        # An organiser who never opened the bot has no chat yet; the menus are a convenience.
        log.warning("command menus not (all) set: %s", exc)
