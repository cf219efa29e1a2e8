"""The words of the plan, one type each: roles, the states and moves of a case, ratings,
how a problem counts, the steps of an opinion, channels, flows.

Every other module takes these from here, so a role or a state is spelled once.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from scoring import Severity

__all__ = ["Severity"]  # general | punished: how a substantiated problem counts (design §5)


class Role(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    EVALUATOR = "evaluator"
    ORGANISER = "organiser"
    SYSTEM = "system"


# A problem's reference (design §5, C): one reference counts once. The bot's own case 17
# is stored as ``case-17``; people read it as 第 17 号 / No. 17 and may type it so.
CASE_REF = "case-"
_CASE_NUMBER = re.compile(r"(?:case-?|#|no\.?|第)?\s*(\d{1,12})\s*号?", re.IGNORECASE)


def case_ref(case_id: int) -> str:
    return f"{CASE_REF}{case_id}"


def case_number(ref: str) -> int | None:
    """The bot's case a stored reference names, or None for a reference from outside."""
    if ref.startswith(CASE_REF) and ref[len(CASE_REF) :].isdigit():
        return int(ref[len(CASE_REF) :])
    return None


def read_ref(text: str) -> str:
    """A reference as an organiser types it: a number (17, 第17号, No. 17, #17) names the
    bot's case; anything else is a reference from outside, kept as typed."""
    given = text.strip()
    match = _CASE_NUMBER.fullmatch(given)
    return case_ref(int(match.group(1))) if match else given


# a severity as organisers write it (design §5): 一般 / 处分, or in English
SEVERITY_WORDS = {
    "一般": Severity.GENERAL,
    "一般问题": Severity.GENERAL,
    "处分": Severity.PUNISHED,
    "被处分": Severity.PUNISHED,
    "general": Severity.GENERAL,
    "punished": Severity.PUNISHED,
}


def read_severity(text: str) -> Severity | None:
    return SEVERITY_WORDS.get(text.strip().casefold())


INVITED_ROLES = (Role.STAFF, Role.SUPERVISOR, Role.EVALUATOR)  # roles an invite grants


class CaseState(StrEnum):
    FILED = "filed"
    VERIFYING = "verifying"
    SUBSTANTIATED = "substantiated"
    RECTIFYING = "rectifying"
    DEFERRED = "deferred"
    RECTIFIED = "rectified"
    REOPENED = "reopened"
    CLOSED = "closed"


OPEN_STATES = frozenset(CaseState) - {CaseState.CLOSED}

NOT_SUBSTANTIATED: Literal["not_substantiated"] = "not_substantiated"
# A case's verification outcome: not substantiated, or substantiated with a severity.
Outcome = Severity | Literal["not_substantiated"]


class Move(StrEnum):
    VERIFY = "verify"
    UNFOUNDED = "unfounded"
    GENERAL = "general"
    PUNISHED = "punished"
    RAISE = "raise"
    PLAN = "plan"
    DEFER = "defer"
    PROGRESS = "progress"
    COMPLETE = "complete"
    REVERIFY = "reverify"
    REDO = "redo"
    CLOSE = "close"
    NOTE = "note"


class Need(StrEnum):
    """What a move asks for before it is made."""

    REASON = "reason"
    PLAN = "plan"
    DEADLINE = "deadline"


class Rating(StrEnum):
    """The resident's rating of a rectified case."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


class Step(StrEnum):
    """The steps of an opinion (and of an organiser's record of one that came offline)."""

    CHANNEL = "channel"  # offline intake only: how it came in
    UNIT = "unit"
    ITEM = "item"
    TEXT = "text"
    ATTACH = "attach"
    IDENTITY = "identity"
    NAME = "name"  # offline intake only: the person's name, when named
    CONFIRM = "confirm"


TELEGRAM = "telegram"
OFFLINE_CHANNELS = ("visit", "forum", "mailbox", "letter")
OTHER_ITEM = "-"  # an opinion about something that is none of the plan's items


class FlowKind(StrEnum):
    """What a person can be in the middle of: a flow's kind (its row is in ``drafts``)."""

    OPINION = "opinion"  # a resident's opinion
    RECORD = "record"  # an organiser's record of an opinion that came offline
    MOVE = "move"  # the questions a move on a case asks
