"""What every handler and job needs, built once at start by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.ballot_key import BallotKey
from bot.campaign import Campaign
from bot.clock import Clock
from bot.db import Database
from bot.limits import Throttle
from bot.rounds import Round
from bot.texts import Texts
from scoring import Ranking


class Sender(Protocol):
    """What the domain knows of the outbox sender: that it can be woken up after
    something was queued (``bot.runtime.outbox.Outbox``)."""

    def wake(self) -> None: ...

    def card_changed(self, user_id: int) -> None:
        """An evaluator's ballot card no longer shows what is stored: edit it soon."""


@dataclass
class Services:
    campaign: Campaign
    db: Database
    texts: Texts
    clock: Clock
    outbox: Sender
    ballot_key: BallotKey  # turns an evaluator's account into their ballots' pseudonym
    # slows a burst of ballot answers from one account (a script, a stuck finger)
    throttle: Throttle = field(default_factory=Throttle)
    # where the web console is opened (its Mini App address); None: no console
    console_url: str | None = None
    # the last ranking computed per round, with the fingerprint of what it was computed from
    ranking_cache: dict[str, tuple[tuple[Any, ...], Ranking]] = field(default_factory=dict)
    # every round of the database, in the order opened; the last is the current one
    rounds: tuple[Round, ...] = ()

    def is_organiser(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.campaign.organisers
