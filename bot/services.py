"""What every handler and job needs, built once at start by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.campaign import Campaign
from bot.clock import Clock
from bot.db import Database
from bot.limits import Throttle
from bot.texts import Texts


class Sender(Protocol):
    """What the domain knows of the outbox sender: that it can be woken up after
    something was queued (``bot.runtime.outbox.Outbox``)."""

    def wake(self) -> None: ...


@dataclass
class Services:
    campaign: Campaign
    db: Database
    texts: Texts
    clock: Clock
    outbox: Sender
    # slows a burst of ballot answers from one account (a script, a stuck finger)
    throttle: Throttle = field(default_factory=Throttle)

    def is_organiser(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.campaign.organisers
