"""What every handler and job needs, built once at start by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.campaign import Campaign
from bot.clock import Clock
from bot.db import Database
from bot.limits import Throttle
from bot.outbox import Outbox
from bot.texts import Texts


@dataclass
class Services:
    campaign: Campaign
    db: Database
    texts: Texts
    clock: Clock
    outbox: Outbox
    # slows a burst of ballot answers from one account (a script, a stuck finger)
    throttle: Throttle = field(default_factory=Throttle)

    def is_organiser(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.campaign.organisers
