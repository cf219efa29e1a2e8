"""The callback context of every handler: services, the user's language, rendering."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from telegram import CallbackQuery, Update, User
from telegram.ext import Application, CallbackContext, ExtBot

from bot.cases.view import Reader
from bot.chat.callbacks import Callback
from bot.chat.keyboards import Keyboard, markup
from bot.db.flows import Flow
from bot.db.users import User as StoredUser
from bot.services import Services
from bot.texts import DEFAULT_LANG, lang_of

SERVICES = "services"


class Press(NamedTuple):
    """A button pressed: its query, who pressed it, and its data as the gate read it."""

    query: CallbackQuery
    user: User
    button: Callback


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context, plus what our handlers need in one place."""

    lang: str = DEFAULT_LANG
    update_id: int = 0
    user_name: str = ""
    # filled in by the gate (handlers.gate) before any handler runs
    flow: Flow | None = None  # the flow the person is in, as the update found it
    person: StoredUser | None = None  # the person's stored record
    button: Callback | None = None  # a pressed button's data, read once
    incoming: Update | None = None  # the update being handled
    command_text: str | None = None  # the command as typed (or as a choice completed it)
    _started: dt.datetime | None = None

    @property
    def started(self) -> dt.datetime:
        """When a flow this update starts began (the same moment however often asked)."""
        if self._started is None:
            self._started = self.services.clock.now()
        return self._started

    @property
    def stamp(self) -> int:
        """The stamp of a flow this update starts (see bot.db.flows.Flow.stamp)."""
        return int(self.started.timestamp() * 1000)

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]
    ) -> Context:
        context = super().from_update(update, application)
        if isinstance(update, Update):
            user = update.effective_user
            context.lang = lang_of(user.language_code if user else None)
            context.update_id = update.update_id
            context.user_name = user.full_name if user else ""
            context.incoming = update
            text = update.message.text if update.message is not None else None
            context.command_text = text if text and text.startswith("/") else None
        return context

    @property
    def sender(self) -> User:
        """Who sent the update (every handler but the groups' and channels' has one)."""
        user = self.incoming.effective_user if self.incoming is not None else None
        if user is None:
            raise LookupError("this update has no sender")
        return user

    @property
    def press(self) -> Press:
        """The button a button's handler answers (its pattern admitted the data)."""
        query = self.incoming.callback_query if self.incoming is not None else None
        if query is None or self.button is None:
            raise LookupError("this update is no press of a button of ours")
        return Press(query, self.sender, self.button)

    @property
    def services(self) -> Services:
        services = self.bot_data[SERVICES]
        assert isinstance(services, Services)
        return services

    def render(self, name: str, /, **values: Any) -> str:
        """A template in the user's language; the campaign is always at hand."""
        return self.services.texts.render(
            name, self.lang, campaign=self.services.campaign, **values
        )

    def popup(self, name: str, /, **values: str | int | bool) -> str:
        """A short text of plain values in the user's language (see Texts.popup)."""
        return self.services.texts.popup(name, self.lang, **values)

    def reader(self) -> Reader:
        """Cases as this person reads them (bot/cases/view.py)."""
        services = self.services
        years = {r.id: r.year for r in services.rounds}
        return Reader(services.campaign, services.texts, self.lang, services.clock.now(), years)

    def label(self, message: str, **values: Any) -> str:
        return self.services.texts.gettext(self.lang, message, **values)

    def markup(self, keyboard: Keyboard | None) -> dict[str, Any] | None:
        """A keyboard as the Bot API's reply markup, in the user's language."""
        return markup(keyboard, self.services.texts, self.lang)
