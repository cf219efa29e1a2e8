"""Records tests write straight into the database: a moment, a resident's case, ballots."""

from __future__ import annotations

import datetime as dt

from bot.db import ballots as ballot_store
from bot.db.cases import Attachment, NewCase
from bot.vocabulary import Role
from tests.support.harness import Harness

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


async def cast(harness: Harness, unit: str, answers: dict[str, int], start: int) -> int:
    """Store ballots for ``unit`` on the item 服务质量 from distinct evaluators (``v<n>``,
    from ``start``); the next free number."""
    db = harness.services.db
    n = start
    now = harness.services.clock.now()
    async with db.transaction() as tx:
        for answer, count in answers.items():
            for _ in range(count):
                await ballot_store.record(
                    tx, f"v{n}", unit, "service", "public_rep", answer, now, f"test:{n}:{unit}"
                )
                n += 1
    return n
