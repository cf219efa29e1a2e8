"""The callback context of every handler: services, the user's language, rendering."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services
from bot.texts import DEFAULT_LANG, lang_of

SERVICES = "services"


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context, plus what our handlers need in one place."""

    lang: str = DEFAULT_LANG
    update_id: int = 0
    user_name: str = ""

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
        return context

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

    def label(self, message: str, **values: Any) -> str:
        return self.services.texts.gettext(self.lang, message, **values)
