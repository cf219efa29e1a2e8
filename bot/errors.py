"""Every exception of the bot, in one place.

::

    EvalbotError
    ├── CampaignError   the campaign file is wrong; carries every Problem found
    ├── SettingsError   an environment setting is wrong
    ├── DatabaseError   the database cannot be used (newer schema, another campaign)
    ├── RoundError      a new round cannot be opened yet (design §12)
    └── UserError       a refusal to show a user; carries the template to render

Handlers raise :class:`UserError` for anything the user did wrong; the global error
handler logs everything else with its traceback first and tells the user something calm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class EvalbotError(Exception):
    """The root of the bot's own exceptions."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file: where, and what."""

    file: str
    key: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.what}"


class CampaignError(EvalbotError):
    """The campaign file is wrong; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SettingsError(EvalbotError):
    """An environment setting is missing or wrong."""


class DatabaseError(EvalbotError):
    """The database cannot be used by this version of the bot or for this campaign."""


class UserError(EvalbotError):
    """Something a user asked for is refused; ``template`` says why, in their language."""

    def __init__(self, template: str, **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.context: Mapping[str, Any] = context


@dataclass(frozen=True)
class RowProblem:
    """A refusal for one row of a table or a spreadsheet (an import is whole or nothing):
    the row as a spreadsheet numbers it, and the answer's template with its values."""

    row: int
    template: str
    values: Mapping[str, Any]


class RoundError(EvalbotError):
    """A new round cannot be opened (yet): the message says why and what to do."""
