"""Records the storage tests write: a moment, a resident's case."""

from __future__ import annotations

import datetime as dt

from bot.db.cases import Attachment, NewCase
from bot.vocabulary import Role

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
RESIDENT = (77, Role.RESIDENT)  # who files: the resident, by id and role


def new_case(**changes: object) -> NewCase:
    values: dict[str, object] = dict(
        unit_id="dongjie",
        item_id="service",
        text="排队太久",
        channel="telegram",
        source=None,
        author_id=7,
        anonymous=True,
        author_name="王阿姨",
        lang="zh",
        attachments=(Attachment("photo", "f1", "u1"),),
    )
    values.update(changes)
    return NewCase(**values)  # type: ignore[arg-type]
