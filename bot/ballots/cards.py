"""The ballot card (design §6): one message per evaluator, edited as they answer.

A card shows one office at a time with its items, each with its four answers in the
plan's order (满意, 基本满意, 不满意, 不了解), the chosen one ticked; buttons move between
offices, list them with what is complete, and show what is still unanswered. An evaluator
scoped to one office sees just that office. After the close the card shows the final
answers and has no buttons.

A card is rendered from the stored ballots (under the evaluator's pseudonym) whenever it
is sent or edited: nothing kept in the database or the outbox holds an account beside its
answers. Edits are coalesced by the outbox, about one a second a chat at most, and the
last one always renders what is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.ballots import evaluation as ballots
from bot.chat import keyboards
from bot.chat.keyboards import Keyboard, markup
from bot.db import ballots as ballot_store
from bot.db import cards as card_store
from bot.db import rounds as round_store
from bot.db import users as user_store
from bot.db.cards import Card
from bot.db.database import Script
from bot.services import Services
from bot.texts import DEFAULT_LANG
from scoring import ANSWERS, Answer

LIST_PAGE = 8  # offices a page of the list
FINAL_LISTED = 10  # a final card lists every answer of at most this many offices


@dataclass(frozen=True)
class View:
    """Which page of the card: an office (``u``), a page of the office list (``l``), or
    what is still unanswered (``t``)."""

    kind: str
    number: int = 0

    @classmethod
    def parse(cls, text: str, offices: int) -> View:
        kind, _, arg = text.partition(":")
        number = int(arg) if arg.isascii() and arg.isdigit() else 0
        if kind == "u":
            return cls("u", min(number, max(0, offices - 1)))
        if kind in ("l", "t"):
            return cls(kind, number)
        return cls("u", 0)

    def __str__(self) -> str:
        return f"{self.kind}:{self.number}"


@dataclass(frozen=True)
class CardView:
    """A card as Telegram is to show it."""

    user_id: int
    message_id: int | None
    text: str
    keyboard: Keyboard | None  # None: final, no buttons
    lang: str

    @property
    def final(self) -> bool:
        return self.keyboard is None

    def reply_markup(self, services: Services) -> dict[str, Any] | None:
        return markup(self.keyboard, services.texts, self.lang)


@dataclass(frozen=True)
class Progress:
    answers: dict[tuple[str, str], str]
    units: tuple[str, ...]
    items: tuple[str, ...]

    def done(self, unit_id: str) -> int:
        return sum((unit_id, i) in self.answers for i in self.items)

    @property
    def answered(self) -> int:
        return sum(self.done(u) for u in self.units)

    @property
    def expected(self) -> int:
        return len(self.units) * len(self.items)

    def missing(self) -> list[tuple[str, int]]:
        """The offices with unanswered items, and how many each."""
        return [
            (u, len(self.items) - self.done(u))
            for u in self.units
            if self.done(u) < len(self.items)
        ]


async def render(services: Services, user_id: int, lang: str | None = None) -> CardView | None:
    """The evaluator's card as it is to be shown now; None without a card or a role. Its
    reads are one script (on SQLite made at once, in one snapshot: Database.read)."""
    return await services.db.read(render_steps(services, user_id, lang))


def render_steps(services: Services, user_id: int, lang: str | None) -> Script[CardView | None]:
    card = yield from card_store.get_card_steps(user_id)
    person = yield from ballots.evaluator_steps(services, user_id)
    if card is None or person is None or not person.units:
        return None
    if lang is None:
        profile = yield from user_store.get_user_steps(user_id)
        lang = profile.lang if profile else DEFAULT_LANG
    voter = services.ballot_key.pseudonym(user_id)
    answers = yield from ballot_store.answers_of_steps(voter)
    progress = Progress(answers, person.units, tuple(i.id for i in services.campaign.items))
    window = yield from round_store.window_steps()
    closes = ballots.closes_in(services, window)
    if not ballots.open_in(services, window):
        return _final(services, card, progress, lang)
    view = View.parse(card.view, len(person.units))
    if view.kind == "l":
        return _list(services, card, progress, view, lang, closes)
    if view.kind == "t":
        return _todo(services, card, progress, lang, closes)
    return _office(services, card, progress, view.number, lang, closes)


def _labels(services: Services, lang: str) -> dict[str, str]:
    return {a.value: services.texts.gettext(lang, ballots.ANSWER_LABELS[a]) for a in ANSWERS}


def _office(
    services: Services,
    card: Card,
    progress: Progress,
    index: int,
    lang: str,
    closes: dt.datetime | None,
) -> CardView:
    campaign = services.campaign
    unit_id = progress.units[index]
    names = _labels(services, lang)
    items = [
        {
            "number": n,
            "name": item.label(lang),
            "answer": names.get(progress.answers.get((unit_id, item.id), ""), ""),
        }
        for n, item in enumerate(campaign.items, start=1)
    ]
    text = services.texts.render(
        "cards/office",
        lang,
        unit=campaign.unit(unit_id),
        index=index + 1,
        offices=len(progress.units),
        items=items,
        answered=progress.answered,
        expected=progress.expected,
        closes=closes,
    )
    rows = keyboards.card_office(
        unit_id,
        [(i.id, f"{n}. {i.label(lang)}") for n, i in enumerate(campaign.items, start=1)],
        [(ballots.ANSWER_LABELS[a], a.value) for a in ANSWERS],
        {item: answer for (unit, item), answer in progress.answers.items() if unit == unit_id},
        index,
        len(progress.units),
        progress.expected - progress.answered,
    )
    return CardView(card.user_id, card.message_id, text, rows, lang)


def _list(
    services: Services,
    card: Card,
    progress: Progress,
    view: View,
    lang: str,
    closes: dt.datetime | None,
) -> CardView:
    page = keyboards.page_of(len(progress.units), view.number, LIST_PAGE)
    shown = progress.units[page.first : page.first + LIST_PAGE]
    text = services.texts.render(
        "cards/list",
        lang,
        answered=progress.answered,
        expected=progress.expected,
        complete=sum(progress.done(u) == len(progress.items) for u in progress.units),
        offices=len(progress.units),
        closes=closes,
    )
    entries = [
        (
            page.first + n,
            unit_name(services, u, lang),
            progress.done(u),
            len(progress.items),
        )
        for n, u in enumerate(shown)
    ]
    return CardView(card.user_id, card.message_id, text, keyboards.card_list(entries, page), lang)


def _todo(
    services: Services,
    card: Card,
    progress: Progress,
    lang: str,
    closes: dt.datetime | None,
) -> CardView:
    missing = progress.missing()
    index = {u: n for n, u in enumerate(progress.units)}
    rows = [{"name": unit_name(services, u, lang), "missing": m} for u, m in missing[:20]]
    text = services.texts.render(
        "cards/todo",
        lang,
        rows=rows,
        more=len(missing) - len(rows),
        left=progress.expected - progress.answered,
        expected=progress.expected,
        closes=closes,
    )
    targets = [(index[u], unit_name(services, u, lang), m) for u, m in missing]
    return CardView(
        card.user_id, card.message_id, text, keyboards.card_todo(targets[:LIST_PAGE]), lang
    )


def _final(services: Services, card: Card, progress: Progress, lang: str) -> CardView:
    campaign = services.campaign
    names = _labels(services, lang)
    listed = progress.units[:FINAL_LISTED]
    offices = [
        {
            "name": unit_name(services, u, lang),
            "answers": [
                (item.label(lang), names.get(progress.answers.get((u, item.id), ""), ""))
                for item in campaign.items
            ],
        }
        for u in listed
    ]
    text = services.texts.render(
        "cards/final",
        lang,
        offices=offices,
        more=len(progress.units) - len(listed),
        answered=progress.answered,
        expected=progress.expected,
    )
    return CardView(card.user_id, card.message_id, text, None, lang)


class Source(StrEnum):
    """Which card a press came from (design §6). Every card of the current round counts:
    a crash can leave an evaluator with two, and they press the one they hold."""

    LIVE = "live"  # the card in use
    ADOPTED = "adopted"  # a card whose message the bot never learned: now the card in use
    REPLACED = "replaced"  # another card of this round: it counts, then points to the one in use
    EARLIER_ROUND = "earlier_round"  # a card of a round that has ended: nothing counts
    NOT_A_CARD = "not_a_card"  # a message that never was a card: nothing counts


@dataclass(frozen=True)
class Pressed:
    source: Source
    round_name: str = ""  # the round that has ended (EARLIER_ROUND)


async def pressed_on(
    services: Services, user_id: int, message_id: int | None, shows_card: bool
) -> Pressed:
    """Where a press on a card's button came from. ``shows_card``: the message as
    Telegram sent it with the press carries a card's buttons (a card the bot sent but never
    learned the message of, before a crash, is known by that alone)."""
    card = await card_store.get_card(services.db, user_id)
    if message_id is None or (card is not None and card.message_id == message_id):
        return Pressed(Source.LIVE)
    known = await card_store.known_card(services.db, user_id, message_id)
    if known is not None and not known.current:
        return Pressed(Source.EARLIER_ROUND, round_name=known.round_name)
    if card is None:  # no card this round: the checks of the press itself answer
        return Pressed(Source.LIVE)
    if known is None and not shows_card:
        return Pressed(Source.NOT_A_CARD)
    if known is not None and card.message_id is not None:
        return Pressed(Source.REPLACED)  # known already: nothing to write
    async with services.db.batch() as tx:
        if card.message_id is None:
            await card_store.adopt(tx, user_id, message_id)
        else:
            await card_store.remember(tx, user_id, message_id)
    return Pressed(Source.ADOPTED if card.message_id is None else Source.REPLACED)


def unit_name(services: Services, unit_id: str, lang: str) -> str:
    unit = services.campaign.unit(unit_id)
    return unit.label(lang) if unit else unit_id


def answer_label(services: Services, lang: str, answer: str) -> str:
    return services.texts.gettext(lang, ballots.ANSWER_LABELS[Answer(answer)])


class Desk:
    """What the outbox asks of the cards: how one looks now, and what became of a send or
    an edit (``bot.runtime.outbox`` holds one)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def view(self, user_id: int) -> CardView | None:
        return await render(self.services, user_id)

    async def sent(self, user_id: int, message_id: int) -> None:
        async with self.services.db.batch() as tx:
            await card_store.sent(tx, user_id, message_id)

    async def finalised(self, user_id: int, message_id: int) -> None:
        async with self.services.db.batch() as tx:
            await card_store.set_final(tx, user_id, message_id)

    async def live(self) -> list[int]:
        return await card_store.live(self.services.db)
