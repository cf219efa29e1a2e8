"""The opinion a resident is writing: its steps and the rules of each, with no Telegram.

An opinion moves UNIT → ITEM → TEXT → ATTACH → IDENTITY → CONFIRM (the steps of its flow).
Each function here takes the opinion as it stands and what the resident did, and returns
the next (and sometimes a notice for the resident), or raises
:class:`bot.errors.UserError` saying why not. Nothing is stored here; :func:`file_opinion`
turns a confirmed opinion into a case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from bot.campaign import Campaign, Named
from bot.cases.moves import announce_new_case
from bot.db import cases as case_store
from bot.db.cases import Attachment, NewCase
from bot.db.flows import Flow
from bot.errors import UserError
from bot.services import Services
from bot.vocabulary import (
    OFFLINE_CHANNELS,
    OTHER_ITEM,
    TELEGRAM,
    CaseState,
    FlowKind,
    Role,
    Step,
)

OTHER = OTHER_ITEM


@dataclass(frozen=True)
class Opinion:
    """What the resident has said so far."""

    step: Step = Step.UNIT
    unit_id: str | None = None
    item_id: str | None = None  # OTHER for "other"
    parts: tuple[tuple[int, str], ...] = ()  # (message id, text) in the order sent
    attachments: tuple[Attachment, ...] = ()
    media_groups: tuple[str, ...] = ()
    anonymous: bool | None = None
    channel: str = TELEGRAM  # an organiser recording offline intake picks another
    person: str | None = None  # offline: the name of the person, when named

    @property
    def offline(self) -> bool:
        return self.channel != TELEGRAM

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps this opinion goes through, in order."""
        if not self.offline:
            return (Step.UNIT, Step.ITEM, Step.TEXT, Step.ATTACH, Step.IDENTITY, Step.CONFIRM)
        named = () if self.anonymous else (Step.NAME,)
        return (
            Step.CHANNEL,
            Step.UNIT,
            Step.ITEM,
            Step.TEXT,
            Step.ATTACH,
            Step.IDENTITY,
            *named,
            Step.CONFIRM,
        )

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "unit_id": self.unit_id,
            "item_id": self.item_id,
            "parts": [list(p) for p in self.parts],
            "attachments": [
                [a.kind, a.file_id, a.file_unique_id, a.file_name] for a in self.attachments
            ],
            "media_groups": list(self.media_groups),
            "anonymous": self.anonymous,
            "channel": self.channel,
            "person": self.person,
        }

    @classmethod
    def from_flow(cls, flow: Flow) -> Opinion:
        data = flow.data
        return cls(
            step=Step(flow.step),
            unit_id=data.get("unit_id"),
            item_id=data.get("item_id"),
            parts=tuple((int(m), str(t)) for m, t in data.get("parts", [])),
            attachments=tuple(Attachment(*a) for a in data.get("attachments", [])),
            media_groups=tuple(data.get("media_groups", [])),
            anonymous=data.get("anonymous"),
            channel=data.get("channel", TELEGRAM),
            person=data.get("person"),
        )

    @property
    def kind(self) -> FlowKind:
        return FlowKind.RECORD if self.offline else FlowKind.OPINION

    def flow(self, user_id: int, prompt: tuple[int, int] | None, started: dt.datetime) -> Flow:
        chat_id, message_id = prompt if prompt else (None, None)
        return Flow(
            user_id, self.kind, self.step.value, self.to_json(), chat_id, message_id, started
        )


def _expect(opinion: Opinion, *steps: Step) -> None:
    if opinion.step not in steps:
        raise UserError("opinion/wrong_step")


def choose_unit(opinion: Opinion, campaign: Campaign, unit_id: str) -> Opinion:
    _expect(opinion, Step.UNIT)
    if campaign.unit(unit_id) is None:
        raise UserError("common/invalid_button")
    return replace(opinion, unit_id=unit_id, step=Step.ITEM)


def choose_item(opinion: Opinion, campaign: Campaign, item_id: str) -> Opinion:
    _expect(opinion, Step.ITEM)
    if item_id != OTHER and campaign.item(item_id) is None:
        raise UserError("common/invalid_button")
    return replace(opinion, item_id=item_id, step=Step.TEXT)


def add_text(opinion: Opinion, campaign: Campaign, message_id: int, text: str) -> Opinion:
    """The opinion's text; more text while attaching is added to it (long texts arrive split
    over several messages)."""
    _expect(opinion, Step.TEXT, Step.ATTACH)
    text = text.strip()
    if not text:
        raise UserError("opinion/need_text")
    limit = campaign.intake.max_text
    total = len(opinion.text) + (1 if opinion.parts else 0) + len(text)
    if total > limit:
        raise UserError(
            "opinion/too_long", limit=limit, length=total, sent=len(text), kept=len(opinion.text)
        )
    return replace(opinion, parts=(*opinion.parts, (message_id, text)), step=Step.ATTACH)


def edit_text(opinion: Opinion, campaign: Campaign, message_id: int, text: str) -> Opinion:
    """The resident edited a message that is part of the text: take the new wording."""
    if message_id not in {m for m, _ in opinion.parts}:
        raise UserError("opinion/edit_not_in_draft")
    text = text.strip()
    if not text:
        raise UserError("opinion/need_text")
    parts = tuple((m, text if m == message_id else t) for m, t in opinion.parts)
    if len("\n".join(t for _, t in parts)) > campaign.intake.max_text:
        raise UserError(
            "opinion/too_long",
            limit=campaign.intake.max_text,
            length=len("\n".join(t for _, t in parts)),
            sent=len(text),
            kept=len(opinion.text),
        )
    return replace(opinion, parts=parts)


def add_attachment(
    opinion: Opinion,
    campaign: Campaign,
    attachment: Attachment,
    message_id: int,
    caption: str | None,
    media_group: str | None,
) -> Opinion:
    """A photo or document; its caption, if any, counts as text."""
    _expect(opinion, Step.TEXT, Step.ATTACH)
    limit = campaign.intake.max_attachments
    if len(opinion.attachments) >= limit:
        raise UserError("opinion/too_many_attachments", limit=limit)
    if any(a.file_unique_id == attachment.file_unique_id for a in opinion.attachments):
        return opinion
    updated = replace(opinion, attachments=(*opinion.attachments, attachment))
    if media_group and media_group not in updated.media_groups:
        updated = replace(updated, media_groups=(*updated.media_groups, media_group))
    if caption and caption.strip():
        return add_text(updated, campaign, message_id, caption)
    return updated


def attachments_done(opinion: Opinion) -> Opinion:
    _expect(opinion, Step.ATTACH)
    return replace(opinion, step=Step.IDENTITY)


def choose_identity(opinion: Opinion, anonymous: bool) -> Opinion:
    _expect(opinion, Step.IDENTITY)
    named_offline = opinion.offline and not anonymous
    return replace(opinion, anonymous=anonymous, step=Step.NAME if named_offline else Step.CONFIRM)


def choose_channel(opinion: Opinion, channel: str) -> Opinion:
    """Offline intake: the channel it came through (visit, forum, mailbox, letter)."""
    _expect(opinion, Step.CHANNEL)
    if channel not in OFFLINE_CHANNELS:
        raise UserError("common/invalid_button")
    return replace(opinion, channel=channel, step=Step.UNIT)


def give_name(opinion: Opinion, name: str) -> Opinion:
    """Offline intake: the name of the person who is named to the office."""
    _expect(opinion, Step.NAME)
    name = " ".join(name.split())
    if not name or len(name) > 64:
        raise UserError("opinion/bad_name")
    return replace(opinion, person=name, step=Step.CONFIRM)


def offline() -> Opinion:
    """An organiser's record of an opinion that came in offline, at its first step."""
    return Opinion(step=Step.CHANNEL, channel="")


def find_units(campaign: Campaign, typed: str) -> list[Named]:
    """The offices whose name (Chinese or English) or id holds what was typed, ignoring
    spaces and case; an exact name first."""
    wanted = "".join(typed.split()).casefold()
    if not wanted:
        return []

    def names(unit: Named) -> list[str]:
        return ["".join(n.split()).casefold() for n in (unit.name, unit.name_en, unit.id) if n]

    exact = [u for u in campaign.units if wanted in names(u)]
    if exact:
        return exact
    return [u for u in campaign.units if any(wanted in n for n in names(u))]


def origin_key(update_id: int) -> str:
    """What a case filed from a Telegram update is keyed by, so it is filed once."""
    return f"update:{update_id}"


@dataclass(frozen=True)
class Filer:
    """Who files: a resident for themselves, or an organiser recording what came offline
    (a visit, a forum, a mailbox, a letter), for someone who is then named or not."""

    actor_id: int
    role: Role
    author_id: int | None  # whom to keep informed (None: no Telegram account)
    name: str | None
    lang: str
    source: str | None
    channel: str = TELEGRAM


async def file_opinion(
    services: Services, opinion: Opinion, filer: Filer, update_id: int
) -> tuple[int, bool]:
    """File the confirmed opinion as a case and tell the unit's staff and the organisers,
    in one transaction. Filing twice from the same update (a replay) files once. (The flow
    ends after the resident has been answered: see ``handlers.opinion``.)"""
    _expect(opinion, Step.CONFIRM)
    assert opinion.unit_id is not None and opinion.anonymous is not None
    now = services.clock.now()
    new = NewCase(
        unit_id=opinion.unit_id,
        item_id=None if opinion.item_id in (None, OTHER) else opinion.item_id,
        text=opinion.text,
        channel=filer.channel,
        source=filer.source,
        author_id=filer.author_id,
        anonymous=opinion.anonymous,
        author_name=filer.name,
        lang=filer.lang,
        attachments=opinion.attachments,
    )
    due = now + dt.timedelta(days=services.campaign.deadlines.verify_days)
    async with services.db.transaction() as tx:
        case_id, created = await case_store.file_case(
            tx,
            new,
            origin_key(update_id),
            CaseState.FILED,
            (filer.actor_id, filer.role),
            now,
            due,
        )
        if created:
            await announce_new_case(tx, services, case_id)
    services.outbox.wake()
    return case_id, created
