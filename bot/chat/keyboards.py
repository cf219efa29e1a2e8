"""Every inline keyboard of the bot, built here from typed descriptions.

The rest of the bot says what a person may do (a :class:`Button` per choice: a label and
the callback it sends, or a link); :func:`markup` turns a :class:`Keyboard` into the Bot
API's ``reply_markup`` in the person's language. Nothing else builds reply markup.

A keyboard always fits Telegram's limits (100 buttons, 8 to a row, about 10 kB): long
choices come in pages (:func:`paged`), with buttons to turn them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.campaign import Campaign, Named
from bot.chat import labels
from bot.chat.callbacks import Kind, encode
from bot.texts import N_, Texts
from bot.vocabulary import OFFLINE_CHANNELS, OTHER_ITEM, Rating, Step

MAX_BUTTONS = 100  # Telegram's limit on an inline keyboard
MAX_ROW = 8
PAGE = 8  # choices on a page of a long list: big targets on an old phone


@dataclass(frozen=True)
class Button:
    """One button: ``label`` is a message id to translate (with ``values``), or the text
    itself when ``plain`` (an office's name); it sends ``kind`` with ``args``, or opens
    ``url``."""

    label: str
    kind: Kind | None = None
    args: tuple[str | int, ...] = ()
    url: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    plain: bool = False
    prefix: str = ""  # shown before the label as it is (a tick on the chosen answer)

    def data(self) -> str:
        assert self.kind is not None
        return encode(self.kind, *self.args)


Row = tuple[Button, ...]


@dataclass(frozen=True)
class Keyboard:
    rows: tuple[Row, ...] = ()

    def __add__(self, other: Keyboard) -> Keyboard:
        return Keyboard(self.rows + other.rows)

    @property
    def buttons(self) -> int:
        return sum(len(r) for r in self.rows)


def keyboard(*rows: Iterable[Button]) -> Keyboard:
    return Keyboard(tuple(tuple(r) for r in rows if r))


def column(buttons: Iterable[Button]) -> Keyboard:
    """One button a row."""
    return Keyboard(tuple((b,) for b in buttons))


def grid(buttons: Sequence[Button], width: int) -> Keyboard:
    return Keyboard(tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width)))


def markup(board: Keyboard | None, texts: Texts, lang: str) -> dict[str, Any] | None:
    """The Bot API's ``reply_markup`` for a keyboard, in ``lang`` (None: no keyboard)."""
    if board is None or not board.rows:
        return None
    if board.buttons > MAX_BUTTONS or any(len(r) > MAX_ROW for r in board.rows):
        raise ValueError(f"a keyboard of {board.buttons} buttons does not fit Telegram's limits")
    rows = []
    for row in board.rows:
        shown = []
        for b in row:
            text = b.prefix + (b.label if b.plain else texts.gettext(lang, b.label, **b.values))
            if b.url:
                shown.append({"text": text, "url": b.url})
            else:
                shown.append({"text": text, "callback_data": b.data()})
        rows.append(shown)
    return {"inline_keyboard": rows}


# -- paging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """Which part of a long list a keyboard shows."""

    number: int  # from 0
    count: int  # how many pages
    first: int  # the index of the first entry shown

    @property
    def shown(self) -> str:
        return f"{self.number + 1}/{self.count}"


def page_of(total: int, number: int, size: int = PAGE) -> Page:
    count = max(1, (total + size - 1) // size)
    number = min(max(0, number), count - 1)
    return Page(number, count, number * size)


def paged(
    choices: Sequence[Button], number: int, turn: Kind, *turn_args: str | int, size: int = PAGE
) -> tuple[Keyboard, Page]:
    """A page of ``choices`` (one a row), and under it the buttons that turn the pages,
    each sending ``turn`` with its ``turn_args`` and the page number."""
    page = page_of(len(choices), number, size)
    board = column(choices[page.first : page.first + size])
    if page.count > 1:
        nav = []
        if page.number > 0:
            nav.append(Button(N_("◀️ Back"), turn, (*turn_args, page.number - 1)))
        nav.append(
            Button(
                N_("Page %(page)s"), turn, (*turn_args, page.number), values={"page": page.shown}
            )
        )
        if page.number < page.count - 1:
            nav.append(Button(N_("More ▶️"), turn, (*turn_args, page.number + 1)))
        board = board + keyboard(nav)
    return board, page


# -- the bot's keyboards ---------------------------------------------------------------------


def main_menu() -> Keyboard:
    return column(
        [
            Button(labels.OPINION, Kind.MENU, ("opinion",)),
            Button(labels.MY_CASES, Kind.MENU, ("status",)),
            Button(labels.ABOUT, Kind.MENU, ("help",)),
        ]
    )


def cancel(stamp: int) -> Button:
    """Ends the run ``stamp`` of a flow, and nothing else."""
    return Button(labels.CANCEL, Kind.CANCEL, (stamp,))


def offices(
    campaign: Campaign, lang: str, page: int, found: Sequence[Named] | None = None
) -> Keyboard:
    """The office picker: a page of offices (or the ones a search found), to turn."""
    units = campaign.units if found is None else found
    choices = [Button(u.label(lang), Kind.UNIT, (u.id,), plain=True) for u in units]
    board, _ = paged(choices, page, Kind.PAGE, "units")
    return board


def opinion_step(
    step: Step,
    *,
    offline: bool,
    attached: bool,
    stamp: int,
    campaign: Campaign,
    lang: str,
    page: int = 0,
) -> Keyboard:
    """The buttons of the step an opinion is at (and Cancel under them)."""
    board = Keyboard()
    if step is Step.CHANNEL:
        board = column(Button(labels.CHANNELS[c], Kind.CHANNEL, (c,)) for c in OFFLINE_CHANNELS)
    elif step is Step.UNIT:
        board = offices(campaign, lang, page)
    elif step is Step.ITEM:
        items = [Button(i.label(lang), Kind.ITEM, (i.id,), plain=True) for i in campaign.items]
        board = column([*items, Button(labels.OTHER_ITEM, Kind.ITEM, (OTHER_ITEM,))])
    elif step is Step.ATTACH:
        board = column(
            [
                Button(
                    labels.CONTINUE if attached else labels.SKIP_ATTACHMENTS,
                    Kind.ATTACHED,
                    ("done",),
                )
            ]
        )
    elif step is Step.IDENTITY:
        named = labels.NAMED_OFFLINE if offline else labels.NAMED
        anonymous = labels.ANONYMOUS_OFFLINE if offline else labels.ANONYMOUS
        board = column(
            [
                Button(named, Kind.IDENTITY, ("named",)),
                Button(anonymous, Kind.IDENTITY, ("anon",)),
            ]
        )
    elif step is Step.CONFIRM:
        board = column(
            [
                Button(labels.SEND, Kind.CONFIRM, ("send",)),
                Button(labels.RESTART, Kind.CONFIRM, ("restart",)),
            ]
        )
    return board + keyboard([cancel(stamp)])


def continue_or_discard(stamp: int, then: str) -> Keyboard:
    """Another flow is open: continue it, or discard it (and do ``then``)."""
    return column(
        [
            Button(labels.RESUME, Kind.RESUME, ("go", stamp, "-")),
            Button(
                labels.DROP if then == "-" else labels.DROP_AND_GO,
                Kind.RESUME,
                ("drop", stamp, then),
            ),
        ]
    )


def case_button(case_id: int) -> Button:
    return Button(labels.CASE_BUTTON, Kind.CASE, (case_id,), values={"number": case_id})


def open_case(case_id: int) -> Keyboard:
    """A button that opens the case card (under a notification about the case)."""
    return keyboard([Button(labels.OPEN_CASE, Kind.CASE, (case_id,), values={"number": case_id})])


def my_cases(case_ids: Sequence[int]) -> Keyboard:
    """A resident's list: a button per case (ten at most), then "send another"."""
    return column(
        [
            *(case_button(c) for c in case_ids[:10]),
            Button(labels.NEW_OPINION, Kind.MENU, ("opinion",)),
        ]
    )


def after_filing(case_id: int) -> Keyboard:
    return column([case_button(case_id), Button(labels.NEW_OPINION, Kind.MENU, ("opinion",))])


def team_cases(case_ids: Sequence[int], which: str, page: int, more: bool) -> Keyboard:
    """A button per case (four a row), the pages, then the other lists."""
    board = grid([case_button(c) for c in case_ids], 4)
    turns = []
    if page > 0:
        turns.append(Button(N_("◀️ Back"), Kind.PAGE, (which, page - 1)))
    if more:
        turns.append(Button(N_("More ▶️"), Kind.PAGE, (which, page + 1)))
    return (
        board
        + keyboard(turns)
        + keyboard(
            [
                Button(labels.SHOW_OVERDUE, Kind.LIST, ("overdue",)),
                Button(labels.SHOW_ALL, Kind.LIST, ("all",)),
            ]
        )
    )


def moves(case_id: int, allowed: Sequence[tuple[str, str]], files: int) -> Keyboard:
    """A button per move the viewer may make (label, move), and one for the case's files."""
    board = column(Button(label, Kind.MOVE, (case_id, move)) for label, move in allowed)
    if files:
        board = board + keyboard([files_button(case_id, files)])
    return board


def files_button(case_id: int, count: int) -> Button:
    return Button(labels.FILES, Kind.FILES, (case_id,), values={"count": count})


def rating(case_id: int) -> Keyboard:
    """满意 / 基本满意 / 不满意, for the resident once the office says it is rectified."""
    return column(Button(labels.RATING_BUTTONS[r], Kind.RATE, (case_id, r.value)) for r in Rating)


def card_office(
    unit_id: str,
    items: Sequence[tuple[str, str]],
    answers: Sequence[tuple[str, str]],
    chosen: Mapping[str, str],
    index: int,
    offices: int,
    left: int,
) -> Keyboard:
    """A ballot card's office page: for each item (id, "n. name") a row with its name and
    a row with the four answers (label, value), the chosen one ticked; then the ways to
    the other offices and to what is still unanswered."""
    rows: list[Row] = []
    for item_id, name in items:
        rows.append((Button(name, Kind.CARD, ("i", item_id), plain=True),))
        rows.append(
            tuple(
                Button(
                    label,
                    Kind.BALLOT,
                    (unit_id, item_id, n),
                    prefix="✅" if chosen.get(item_id) == value else "",
                )
                for n, (label, value) in enumerate(answers)
            )
        )
    if offices > 1:
        rows.append(
            (
                Button(labels.CARD_PREVIOUS, Kind.CARD, ("u", (index - 1) % offices)),
                Button(labels.CARD_LIST, Kind.CARD, ("l", index // PAGE)),
                Button(labels.CARD_NEXT, Kind.CARD, ("u", (index + 1) % offices)),
            )
        )
    todo = labels.CARD_LEFT if left else labels.CARD_ALL_DONE
    rows.append((Button(todo, Kind.CARD, ("t", 0), values={"count": left}),))
    return Keyboard(tuple(rows))


def card_list(entries: Sequence[tuple[int, str, int, int]], page: Page) -> Keyboard:
    """The offices of a card (index, name, answered, items), a page at a time."""
    board = column(
        Button(
            f"{name} {done}/{of}",
            Kind.CARD,
            ("u", index),
            plain=True,
            prefix="✅ " if done == of else "",
        )
        for index, name, done, of in entries
    )
    turns = []
    if page.number > 0:
        turns.append(Button(N_("◀️ Back"), Kind.CARD, ("l", page.number - 1)))
    if page.number < page.count - 1:
        turns.append(Button(N_("More ▶️"), Kind.CARD, ("l", page.number + 1)))
    return board + keyboard(turns)


def card_todo(targets: Sequence[tuple[int, str, int]]) -> Keyboard:
    """What is still unanswered: a button to each such office (index, name, missing)."""
    board = column(
        Button(labels.CARD_GO_TO, Kind.CARD, ("u", index), values={"name": name, "count": m})
        for index, name, m in targets
    )
    return board + keyboard([Button(labels.CARD_LIST, Kind.CARD, ("l", 0))])


def bring_card() -> Keyboard:
    """A button that brings the evaluator's ballot card back to the bottom of the chat."""
    return keyboard([Button(labels.CARD_BRING, Kind.CARD, ("back", 0))])


def confirm(label: str, kind: Kind, arg: str) -> Keyboard:
    """One button that confirms what was asked (opening the ballots again, publishing again)."""
    return keyboard([Button(label, kind, (arg,))])


def digest(console_url: str | None) -> Keyboard:
    """Under a digest of new cases: the open cases in chat, and in the console."""
    buttons = [Button(labels.LIST_OPEN, Kind.LIST, ("open",))]
    if console_url:
        url = console_url.rstrip("/") + "/cases?state=filed"
        buttons.append(Button(labels.IN_CONSOLE, url=url))
    return column(buttons)


def link(label: str, url: str) -> Keyboard:
    return keyboard([Button(label, url=url)])
