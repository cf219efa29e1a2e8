"""Callback data: ``"<kind>:<arg>:…"``, always under Telegram's 64 bytes, parsed here only.

Kinds are one :class:`Kind` enum. :func:`decode` returns ``None`` for anything it does not
recognise (stale, forged or foreign data), so handlers never parse strings themselves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64


class Kind(StrEnum):
    MENU = "m"  # m:<entry>: a main-menu button
    UNIT = "u"  # u:<unit id>
    ITEM = "i"  # i:<item id> | i:- (other)
    ATTACHED = "a"  # a:done: no (more) attachments
    IDENTITY = "n"  # n:named | n:anon
    CONFIRM = "c"  # c:send | c:restart
    CANCEL = "x"  # x:<stamp>: leave the flow of that run (see bot.db.flows.Flow.stamp)
    RESUME = "r"  # r:go|drop:<stamp>:<then>: continue or discard an open flow, then do <then>
    CASE = "k"  # k:<case id>: show a case
    MOVE = "v"  # v:<case id>:<move>: a move on a case (bot.cases.moves.Move)
    RATE = "t"  # t:<case id>:<rating>: the resident rates the handling
    LIST = "l"  # l:<filter>: a list of cases (open, overdue, all)
    CHANNEL = "h"  # h:<channel>: how an opinion recorded by an organiser came in
    FILES = "f"  # f:<case id>: show a case's photos and documents
    BALLOT = "b"  # b:<unit id>:<item id>:<answer index>: an evaluator's answer
    WINDOW = "w"  # w:reopen|early: an organiser confirms opening the ballot window
    PUBLISH = "p"  # p:<fingerprint>: an organiser publishes the ranking a preview showed
    PAGE = "g"  # g:<list>:<page>: turn the pages of a long list
    CARD = "d"  # d:u|l|t:<n>: show a page of the ballot card; d:i:<item>; d:back:0
    CHOOSE = "o"  # o:<unit id>:<stamp>: the office meant by a command whose name fit several


ARITY = {
    Kind.MENU: 1,
    Kind.UNIT: 1,
    Kind.ITEM: 1,
    Kind.ATTACHED: 1,
    Kind.IDENTITY: 1,
    Kind.CONFIRM: 1,
    Kind.CANCEL: 1,
    Kind.RESUME: 3,
    Kind.CASE: 1,
    Kind.MOVE: 2,
    Kind.RATE: 2,
    Kind.LIST: 1,
    Kind.CHANNEL: 1,
    Kind.FILES: 1,
    Kind.BALLOT: 3,
    Kind.WINDOW: 1,
    Kind.PUBLISH: 1,
    Kind.PAGE: 2,
    Kind.CARD: 2,
    Kind.CHOOSE: 2,
}


@dataclass(frozen=True)
class Callback:
    kind: Kind
    args: tuple[str, ...]

    @property
    def arg(self) -> str:
        return self.args[0] if self.args else ""


def encode(kind: Kind, *args: str | int) -> str:
    data = ":".join([kind.value, *(str(a) for a in args)])
    if len(data.encode("utf-8")) > MAX_BYTES or any(":" in str(a) for a in args):
        raise ValueError(f"callback data {data!r} is not encodable in {MAX_BYTES} bytes")
    return data


@functools.lru_cache(maxsize=4096)
def decode(data: str | None) -> Callback | None:
    """The button's data read, or None (stale, forged, foreign). Read once per update:
    the gate and the handler's pattern share the answer (it is cached; a Callback is
    frozen)."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    head, *args = data.split(":")
    try:
        kind = Kind(head)
    except ValueError:
        return None
    if len(args) != ARITY[kind] or any(not a for a in args):
        return None
    number = NUMBERS.get(kind)
    if number is not None and not _number(args[number]):
        return None
    return Callback(kind, tuple(args))


# the argument that is a number: a case id, an answer's index
NUMBERS = {
    Kind.CASE: 0,
    Kind.MOVE: 0,
    Kind.RATE: 0,
    Kind.FILES: 0,
    Kind.BALLOT: 2,
    Kind.CANCEL: 0,
    Kind.RESUME: 1,
    Kind.PAGE: 1,
}


def _number(text: str) -> bool:
    """Plain ASCII digits that int() reads as written ("٣" and "²" are digits to
    str.isdigit, and int refuses the latter)."""
    return text.isascii() and text.isdigit() and len(text) <= 15


def is_card_button(data: str) -> bool:
    """A button only a ballot card has (a reminder's "back to the card" is not one)."""
    return data.startswith((f"{Kind.BALLOT}:", f"{Kind.CARD}:")) and data != f"{Kind.CARD}:back:0"
