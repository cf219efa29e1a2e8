"""Who may use a handler, said where it is registered (handlers/__init__.py): the
authorization table (tests/flows/test_authorization.py) reads the same declaration.

Handlers whose answer depends on a case or a scope (a case's team, an office's staff)
check it themselves through ``bot.cases.access``; a handler for one role is declared here."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from bot.errors import UserError
from bot.vocabulary import Role
from handlers.context import Context

Callback = Callable[[Update, Context], Coroutine[Any, Any, Any]]

AUDIENCE = "audience"  # the attribute a declared handler carries: the roles it serves


def organisers(callback: Callback) -> Callback:
    """Only organisers (their ids in the campaign file): anyone else is told their role
    may not, and nothing changes."""

    @functools.wraps(callback)
    async def checked(update: Update, context: Context) -> Any:
        user = update.effective_user
        if user is None or not context.services.is_organiser(user.id):
            raise UserError("case/not_allowed")
        return await callback(update, context)

    setattr(checked, AUDIENCE, frozenset({Role.ORGANISER}))
    return checked


def audience(callback: object) -> frozenset[Role] | None:
    """The roles a registered handler is declared for; None: it checks for itself."""
    found = getattr(callback, AUDIENCE, None)
    return found if isinstance(found, frozenset) else None


def asker(update: Update) -> int:
    """Who sent the update (every update a command or button handler gets has someone)."""
    user = update.effective_user
    if user is None:
        raise UserError("case/not_allowed")
    return user.id
