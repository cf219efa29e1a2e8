"""A case as a person reads it, prepared once: what chat's card and lists, the resident's
status, the console's page and list and the spreadsheet each render.

Names instead of ids (the office, the item), labels instead of codes (state, channel,
outcome, rating) in the reader's language, and whether it is overdue (one definition:
:meth:`bot.db.cases.Case.overdue`). Who may read which part (the channel, the name) is
:mod:`bot.cases.access`'s answer; the templates ask it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.campaign import Campaign
from bot.cases.moves import MOVES
from bot.chat import labels
from bot.db.cases import Case, CaseEvent
from bot.texts import N_, Texts
from bot.vocabulary import Move

MOVE_NAMES = frozenset(m.value for m in Move)


@dataclass(frozen=True)
class CaseView:
    case: Case
    unit: str
    item: str
    state: str
    channel: str
    outcome: str  # "" until the case is verified
    rating: str  # "" until the resident rates it
    overdue: bool
    age: int  # whole days since it was filed
    round: str = ""  # "" for the current round; an earlier one's year (2026年度)


@dataclass(frozen=True)
class Step:
    """One line of a case's history."""

    event: CaseEvent
    state: str
    role: str


@dataclass(frozen=True)
class Reader:
    """What a rendering needs: the campaign's names, the labels, the language, the time."""

    campaign: Campaign
    texts: Texts
    lang: str
    now: dt.datetime
    years: Mapping[str, int] = field(default_factory=dict)  # each round's year, by its id

    def label(self, message: str) -> str:
        return self.texts.gettext(self.lang, message)

    def view(self, case: Case) -> CaseView:
        unit = self.campaign.known_unit(case.unit_id)
        item = self.campaign.item(case.item_id) if case.item_id else None
        return CaseView(
            case=case,
            unit=unit.label(self.lang) if unit else case.unit_id,
            item=item.label(self.lang) if item else self.label(labels.OTHER_ITEM),
            state=self.label(labels.STATES.get(case.state, case.state)),
            channel=self.label(labels.CHANNELS.get(case.channel, case.channel)),
            outcome=self.label(labels.OUTCOMES[case.outcome]) if case.outcome else "",
            rating=self.label(labels.RATINGS[case.rating]) if case.rating in labels.RATINGS else "",
            overdue=case.overdue(self.now),
            age=max(0, (self.now - case.filed_at).days),
            round=self.round_of(case),
        )

    def round_of(self, case: Case) -> str:
        """An earlier round's case is marked with its year (its rectification goes on
        whatever round is current); the current round's with nothing."""
        if not case.round or case.round == self.campaign.id:
            return ""
        year = self.years.get(case.round)
        return self.texts.gettext(self.lang, N_("%(year)s round"), year=year or case.round)

    def views(self, cases: Sequence[Case]) -> list[CaseView]:
        return [self.view(case) for case in cases]

    def resident_history(self, events: Sequence[CaseEvent]) -> list[Step]:
        """The history as its author reads it: what the moves told them, and no more (a
        supervision note is the team's; a deferral's reason too, as when it was made)."""
        shown = []
        for e in events:
            spec = MOVES.get(Move(e.move)) if e.move in MOVE_NAMES else None
            if spec is not None and not spec.tell_resident:
                continue
            shown.append(replace(e, reason="") if e.move == Move.DEFER else e)
        return self.history(shown)

    def history(self, events: Sequence[CaseEvent]) -> list[Step]:
        return [
            Step(
                e,
                self.label(labels.STATES.get(e.to_state, e.to_state)),
                self.label(labels.ROLES.get(e.actor_role, e.actor_role)),
            )
            for e in events
        ]
