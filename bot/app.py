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
from bot import ballot_key, labels
from bot.campaign import Campaign
from bot.cards import Desk
from bot.clock import Clock
from bot.db import Database
from bot.db import users as user_store
from bot.runtime import jobs
from bot.runtime.intake import Poller, replay_pending
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
        run_jobs: bool = True,
        webhook: WebhookConfig | None = None,
        ballot_key_path: Path | None = None,
        new_ballot_key: bool = False,
        edits_overall: bool = True,
    ) -> None:
        self.campaign = campaign
        self.db_path = db_path
        self.clock = clock or Clock()
        self.lanes = lanes
        self.poll_timeout = poll_timeout
        self.outbox_rate = outbox_rate
        self.run_jobs = run_jobs
        self.webhook = webhook
        self.ballot_key_path = ballot_key_path or ballot_key.default_path(Path(db_path))
        self.new_ballot_key = new_ballot_key
        self.edits_overall = edits_overall
        self.webhook_server: WebhookServer | None = None
        self.application = build_application(token, base_url, lanes)
        self._tasks: list[asyncio.Task[None]] = []
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
        key, said = ballot_key.open_key(
            Path(self.db_path), self.ballot_key_path, new=self.new_ballot_key
        )
        log.info("%s", said)
        db = await Database.open(
            self.db_path,
            self.campaign.id,
            {"evalbot_pseudonym": key.pseudonym, "evalbot_origin": key.origin},
        )
        try:
            await ballot_key.bind(db, key, new=self.new_ballot_key)
        except BaseException:
            await db.close()
            raise
        self.outbox = Outbox(
            db,
            self.application.bot,
            self.clock,
            per_second=self.outbox_rate,
            on_blocked=self._blocked,
            edits_overall=self.edits_overall,
        )
        services = Services(
            self.campaign, db, Texts(self.campaign.timezone), self.clock, self.outbox, key
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
        await app.initialize()
        await self.post_init(app)
        await app.start()
        services = self.require_services()
        self.processor = Processor(
            app.process_update, services.db, self.clock, max_lanes=self.lanes
        )
        await replay_pending(services.db, self.processor, app.bot)
        assert self.outbox is not None
        await self.outbox.prepare()
        self._tasks = [asyncio.create_task(self.outbox.run(), name="outbox")]
        if self.webhook is not None:
            # listen first, then tell Telegram where: nothing it sends finds the door shut
            self.webhook_server = WebhookServer(
                self.webhook, app.bot, services.db, self.processor, self.clock
            )
            await self.webhook_server.start()
            await app.bot.set_webhook(
                self.webhook.url,
                secret_token=self.webhook.secret_token,
                allowed_updates=list(Update.ALL_TYPES),
            )
        else:
            # a webhook left set by an earlier run would refuse getUpdates (its updates
            # stay at Telegram and come by polling)
            await app.bot.delete_webhook(drop_pending_updates=False)
            self.poller = Poller(
                app.bot, services.db, self.processor, self.clock, self.poll_timeout
            )
            self._tasks.append(asyncio.create_task(self.poller.run(), name="poller"))
        if self.run_jobs:
            jobs.schedule(app)

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, stop sending, close."""
        if self.services is None:
            return  # not started, or stopped already
        for task in self._tasks:
            if task.get_name() == "poller":
                task.cancel()
        if self.webhook_server is not None:
            # stop taking updates; the webhook stays set, so Telegram keeps the rest
            await self.webhook_server.stop()
            self.webhook_server = None
        if self.processor is not None:
            await self.processor.stop()
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


def build_application(token: str, base_url: str | None, lanes: int) -> AnyApplication:
    """The PTB application: HTML by default, our context type, every handler."""
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
        .request(AiohttpRequest(connection_pool_size=lanes + 16))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    handlers.register(application)
    return application


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
