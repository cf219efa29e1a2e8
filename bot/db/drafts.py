"""Conversations in progress, one row per user, kept in the database so restarts resume them.

A user's row stays when a flow ends (its flow becomes :data:`IDLE`), so that it still
records the last update applied for that user: a replayed update is recognised even after
the flow it belonged to is over.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.clock import iso, parse_iso
from bot.db.database import Database, Row, Tx

IDLE = ""  # the flow of a user with nothing in progress


@dataclass(frozen=True)
class Draft:
    user_id: int
    flow: str
    step: str
    data: Mapping[str, Any] = field(default_factory=dict)
    prompt_chat_id: int | None = None
    prompt_msg_id: int | None = None
    last_update_id: int = 0
    started_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.flow != IDLE


def _draft(row: Row) -> Draft:
    return Draft(
        user_id=row["user_id"],
        flow=row["flow"],
        step=row["step"],
        data=json.loads(row["data"]),
        prompt_chat_id=row["prompt_chat_id"],
        prompt_msg_id=row["prompt_msg_id"],
        last_update_id=row["last_update_id"],
        started_at=parse_iso(row["started_at"]),
        updated_at=parse_iso(row["updated_at"]),
    )


async def get_draft(db: Database, user_id: int) -> Draft | None:
    row = await db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (user_id,))
    return _draft(row) if row else None


async def save_draft(tx: Tx, draft: Draft, now: dt.datetime) -> None:
    """Create or replace the user's draft (a new flow restarts its clock)."""
    stamp = iso(now)
    await tx.execute(
        """
        INSERT INTO drafts (user_id, flow, step, data, prompt_chat_id, prompt_msg_id,
                            last_update_id, started_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            flow = excluded.flow, step = excluded.step, data = excluded.data,
            prompt_chat_id = excluded.prompt_chat_id, prompt_msg_id = excluded.prompt_msg_id,
            last_update_id = MAX(drafts.last_update_id, excluded.last_update_id),
            updated_at = excluded.updated_at,
            started_at = CASE WHEN drafts.flow = excluded.flow THEN drafts.started_at
                              ELSE excluded.started_at END
        """,
        (
            draft.user_id,
            draft.flow,
            draft.step,
            json.dumps(draft.data, ensure_ascii=False),
            draft.prompt_chat_id,
            draft.prompt_msg_id,
            draft.last_update_id,
            stamp,
            stamp,
        ),
    )


async def end_draft(tx: Tx, user_id: int, update_id: int, now: dt.datetime) -> None:
    """End the user's flow (filed, cancelled), remembering ``update_id`` as applied."""
    await tx.execute(
        """
        INSERT INTO drafts (user_id, flow, step, data, last_update_id, started_at, updated_at)
        VALUES (?, '', '', '{}', ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            flow = '', step = '', data = '{}', prompt_chat_id = NULL, prompt_msg_id = NULL,
            last_update_id = MAX(drafts.last_update_id, excluded.last_update_id),
            updated_at = excluded.updated_at
        """,
        (user_id, update_id, iso(now), iso(now)),
    )


async def take_expired(tx: Tx, idle_since: dt.datetime, now: dt.datetime) -> list[Draft]:
    """End the flows untouched since ``idle_since``; return them as they were."""
    rows = await tx.execute_fetchall(
        "SELECT * FROM drafts WHERE flow != '' AND updated_at < ?", (iso(idle_since),)
    )
    expired = [_draft(r) for r in rows]
    await tx.executemany(
        "UPDATE drafts SET flow = '', step = '', data = '{}', prompt_chat_id = NULL, "
        "prompt_msg_id = NULL, updated_at = ? WHERE user_id = ?",
        [(iso(now), d.user_id) for d in expired],
    )
    return expired


async def language_of(tx: Tx, user_id: int) -> str:
    """The language last seen for a user (Chinese if unknown)."""
    row = await (
        await tx.execute("SELECT lang FROM users WHERE user_id = ?", (user_id,))
    ).fetchone()
    return str(row[0]) if row else "zh"
